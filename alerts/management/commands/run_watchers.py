"""``run_watchers [--sweep]``: run every deadline watcher once, now (and the delivery sweeper).

Beat runs them on schedule; this is for an operator after an outage of beat, or
for a deployment that schedules them with cron instead. Idempotent like the
watchers themselves.
"""

from django.core.management.base import BaseCommand

from alerts import watchers
from alerts.tasks import sweep_deliveries


class Command(BaseCommand):
    help = "Run the overdue, lapse, expiry and renewal watchers once (and the delivery sweeper with --sweep)."

    def add_arguments(self, parser):
        parser.add_argument("--sweep", action="store_true", help="Also re-queue deliveries whose job was lost.")

    def handle(self, *args, sweep=False, **options):
        counts = {
            "overdue": watchers.overdue(),
            "warnings_escalated": watchers.warning_escalations(),
            "lapse_warnings": watchers.lapse_warnings(),
            "expired": watchers.expire_lapsed(),
            "renewal_reminders": watchers.renewal_reminders(),
        }
        if sweep:
            counts["requeued"] = sweep_deliveries()
        self.stdout.write(" ".join(f"{name}={count}" for name, count in counts.items()))
