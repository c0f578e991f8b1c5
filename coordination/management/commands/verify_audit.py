"""``manage.py verify_audit``: walk the audit chain; exit status 1 naming the first record that does not fit."""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from coordination import chain


class Command(BaseCommand):
    help = "Check the audit trail's hash chain and the exported heads; exit 1 at the first record that does not fit."

    def add_arguments(self, parser):
        parser.add_argument(
            "--heads",
            default=None,
            help="File of exported heads to check against (default: AUDIT_HEAD_FILE, when it exists).",
        )
        parser.add_argument("--no-heads", action="store_true", help="Check the chain in the database only.")

    def handle(self, *args, **options):
        heads = None
        if not options["no_heads"]:
            heads = Path(options["heads"] or settings.AUDIT_HEAD_FILE)
            if options["heads"] and not heads.exists():
                raise CommandError(f"{heads} does not exist", returncode=2)
        result = chain.verify(heads_path=heads)
        if not result.ok:
            raise CommandError(f"audit trail does NOT verify: {result.problem}", returncode=1)
        self.stdout.write(
            f"audit trail verified: {result.checked} records, head at position {result.last_seq} "
            f"({result.last_hash}); {result.heads_checked} exported heads match"
        )
