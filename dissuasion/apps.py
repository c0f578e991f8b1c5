from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DissuasionConfig(AppConfig):
    """Warning and dissuasion (预警劝阻): partners' clues, routed to police stations (docs/warnings.md)."""

    name = "dissuasion"
    verbose_name = _("Warning and dissuasion")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from cases import signals

        from . import actions

        signals.task_result_recorded.connect(
            actions.close_from_result, sender=None, dispatch_uid="dissuasion.close_from_result"
        )
