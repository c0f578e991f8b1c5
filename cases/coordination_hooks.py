"""What cases add to the pages of lower floors (``coordination.hooks``).

``agencies`` draws the manager's page and ``coordination`` the audit trail, and
neither may import ``cases``: the agency's task performance, the audit page's
lookup of a case by its reference and the words for cases, tasks, identifiers and
transfers in audit rows are registered here.
"""

from __future__ import annotations

from coordination import hooks

from . import measures, permissions, review
from .audit_labels import identifier_label, task_label, transfer_label
from .models import Case, Identifier, Task, Transfer


@hooks.register("agency_page_panels")
def agency_performance(view, agency) -> hooks.Panel:
    """The agency's review row for the window (``?window=``, 90 days by default): ``cases.review``."""
    period, _window = review.window(view.request.GET.get("window", "90d"))
    row = review.unit_row(period, agency.pk)
    return hooks.Panel(
        template="cases/_agency_performance.html",
        context={"performance": row.as_dict() if row.received else None, "since": period.start},
    )


@hooks.register("audit_case_reference")
def case_by_reference(user, reference: str) -> int | None:
    """The id of the case ``reference`` if ``user`` may see it (the audit trail's ``?case=``, page and API)."""
    return Case.objects.visible_to(user).filter(reference=reference.upper()).values_list("pk", flat=True).first()


def _ids(records, object_type: str, known) -> set[int]:
    return {r.object_id for r in records if r.object_type == object_type and r.object_id} - {
        pk for kind, pk in known if kind == object_type
    }


@hooks.register("audit_object_labels")
def case_object_labels(user, records, known) -> dict[tuple[str, int], str]:
    """Cases by reference, tasks by type and agency, identifiers and transfers masked for ``user``.

    One query per kind present in ``records`` and not in ``known``, each through ``visible_to(user)``.
    """
    labels: dict[tuple[str, int], str] = {}
    case_ids = _ids(records, "cases.case", known) | {
        r.case_id for r in records if r.case_id and ("cases.case", r.case_id) not in known
    }
    if case_ids:
        for pk, reference in Case.objects.visible_to(user).filter(pk__in=case_ids).values_list("pk", "reference"):
            labels["cases.case", pk] = reference
    if task_ids := _ids(records, "cases.task", known):
        tasks = (
            Task.objects.visible_to(user)
            .filter(pk__in=task_ids)
            .select_related("agency")
            .only("pk", "type", "agency__code", "agency__name", "agency__name_en")
        )
        labels.update({("cases.task", task.pk): task_label(task) for task in tasks})
    if identifier_ids := _ids(records, "cases.identifier", known):
        identifiers = Identifier.objects.visible_to(user).filter(pk__in=identifier_ids).only("pk", "kind", "value")
        labels.update({("cases.identifier", i.pk): identifier_label(user, i) for i in identifiers})
    if transfer_ids := _ids(records, "cases.transfer", known):
        sides = [f"{side}__{f}" for side in ("from_identifier", "to_identifier") for f in ("kind", "value")]
        transfers = (
            Transfer.objects.visible_to(user)
            .filter(pk__in=transfer_ids)
            .select_related("from_identifier", "to_identifier")
            .only("pk", "amount", *sides)
        )
        labels.update({("cases.transfer", t.pk): transfer_label(user, t) for t in transfers})
    return labels


@hooks.register("task_page_panels")
def task_follow_ups(view, task) -> hooks.Panel | None:
    """The centre's next step on a task: re-issue a refused one corrected, renew a holding before it lapses."""
    if not permissions.can_create_task(view.request.user):
        return None
    reissuable, renewable = measures.can_reissue(task), measures.can_renew(task)
    if not (reissuable or renewable):
        return None
    return hooks.Panel(
        template="cases/_task_follow_ups.html",
        context={"task": task, "reissuable": reissuable, "renewable": renewable},
    )
