from celery import shared_task


@shared_task(name="review.watch_supervision", ignore_result=True)
def watch_supervision() -> int:
    """Supervision items past their deadline (``review.watchers.supervision_overdue``)."""
    from . import watchers

    return watchers.supervision_overdue()
