"""Rewrite each case's stored stopped and frozen totals by ``cases.holdings``' definition.

Until now a bank's result added its amount held to the case's total and nothing
took it off: a stop-payment converted into a freeze counted twice, and a lapsed
measure counted on. Only cases with a holding measure's result can be wrong;
each is recounted from its live holdings (completed, not lapsed), a follow-up
taking over what it holds from the measure it follows.
"""

from collections import defaultdict
from decimal import Decimal

from django.db import migrations
from django.db.models import Q
from django.utils import timezone

# The registry's holding types and the total each adds to, as they stand at this migration.
HOLDING_TOTALS = {"emergency_stop_payment": "amount_stopped", "freeze": "amount_frozen"}


def recount(apps, schema_editor):
    Case = apps.get_model("cases", "Case")
    Task = apps.get_model("cases", "Task")
    now = timezone.now()
    held = Task.objects.filter(type__in=list(HOLDING_TOTALS), amount_held__isnull=False)
    case_ids = sorted(set(held.values_list("case_id", flat=True)))
    for start in range(0, len(case_ids), 500):
        chunk = case_ids[start : start + 500]
        live = defaultdict(dict)
        rows = held.filter(case_id__in=chunk, state="completed").filter(Q(lapses_at__isnull=True) | Q(lapses_at__gt=now))
        for task in rows.only("id", "case_id", "type", "amount_held", "follows_id"):
            live[task.case_id][task.id] = task
        for case_id in chunk:
            tasks = live.get(case_id, {})
            taken = defaultdict(Decimal)
            for task in tasks.values():
                if task.follows_id in tasks:
                    taken[task.follows_id] += task.amount_held
            totals = {"amount_stopped": Decimal("0.00"), "amount_frozen": Decimal("0.00")}
            for pk, task in tasks.items():
                totals[HOLDING_TOTALS[task.type]] += max(Decimal("0.00"), task.amount_held - taken[pk])
            Case.objects.filter(pk=case_id).update(**totals)


class Migration(migrations.Migration):
    dependencies = [("cases", "0007_case_search")]

    operations = [migrations.RunPython(recount, migrations.RunPython.noop, elidable=True)]
