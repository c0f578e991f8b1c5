"""The body of a push, exactly as the partner protocol fixes it."""

from __future__ import annotations

import json

from django.conf import settings
from django.urls import reverse

from cases import task_types
from cases.models import ReturnAllocation, Task


def allocations_body(task: Task) -> list[dict]:
    """The protocol's ``allocations`` of a return task (v1.1), in allocation order."""
    rows = ReturnAllocation.objects.filter(task=task).select_related("case", "victim", "account__bank").order_by("id")
    return [
        {
            "victim_reference": f"{row.case.reference}/{row.victim_id or 0}",
            "case": row.case.reference,
            "account_number": row.account.value,
            "bank": row.account.bank.code if row.account.bank_id else None,
            "holder_name": row.victim.name if row.victim else row.account.holder_name,
            "amount": f"{row.amount:.2f}",
        }
        for row in rows
    ]


def push_body(delivery) -> bytes:
    """JSON bytes for ``delivery``; compact, UTF-8, the bytes that are signed."""
    task: Task = delivery.task
    case = task.case
    target = task.target
    body = {
        "delivery_id": str(delivery.id),
        "task_id": task.pk,
        "type": task.type,
        # A victim warning raised from a partner's clue belongs to no case (docs/warnings.md).
        "case": {
            "reference": case.reference,
            "fraud_type": case.fraud_type.code,
            "reported_at": case.reported_at.isoformat(),
        }
        if case is not None
        else None,
        "target": {
            "kind": task.target_kind,
            "value": target.value if target else None,
            "holder_name": target.holder_name if target else "",
            "bank": target.bank.code if target and target.bank_id else None,
        },
        "amount": f"{task.amount:.2f}" if task.amount is not None else None,
        "currency": task.currency,
        "legal_document_number": task.legal_document_number or None,
        "deadline": task.deadline.isoformat(),
        "result_url": settings.PLATFORM_BASE_URL + reverse("api:task-result", args=[task.pk]),
    }
    person = task.person_to_reach()
    if person is not None:
        # v1.1: who a victim warning must reach; the push goes to the assigned station only.
        body["person"] = person
    if task_types.registry.find(task.type) and task_types.get(task.type).allocates_return:
        # v1.1: the platform's allocation of the frozen money back to the victims it traced.
        body["allocations"] = allocations_body(task)
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
