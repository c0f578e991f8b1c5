"""``manage.py import_statement TASK FILE [--bank X] [--dry-run]``: a bank statement as an account query's result."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from cases.models import Task
from imports import statements
from imports.columns import BANK_LAYOUTS
from imports.progress import ProgressBar

from ._common import acting_user, print_errors


class Command(BaseCommand):
    help = "Import a bank statement (CSV or XLSX) as the result of an account query task."

    def add_arguments(self, parser):
        parser.add_argument("task", type=int)
        parser.add_argument("file")
        parser.add_argument("--bank", default="generic", choices=sorted(BANK_LAYOUTS), help="the statement's layout")
        parser.add_argument("--dry-run", action="store_true")
        parser.add_argument("--user", help="the analyst or supervisor the import is recorded for")

    def handle(self, *args, **options):
        user = acting_user(options["user"])
        task = Task.objects.visible_to(user, "change").filter(pk=options["task"]).first()
        if task is None:
            raise CommandError(f"No task {options['task']}.")
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        bar = ProgressBar(1, stream=self.stderr._out)
        try:
            report = statements.import_statement(
                task,
                content=path.read_bytes(),
                file_name=path.name,
                bank=options["bank"],
                acting_user=user,
                dry_run=options["dry_run"],
            )
        except statements.StatementError as exc:
            raise CommandError(str(exc)) from None
        bar.update(1)
        bar.close()
        print_errors(self.stdout, report.errors)
        if report.errors:
            raise CommandError(f"{len(report.errors)} errors: nothing recorded")
        verb = "would record" if options["dry_run"] else ("recorded" if report.changed else "already recorded")
        self.stdout.write(
            f"{verb}: {report.rows} rows, {report.onward} onward transfers "
            f"({statements.amount_out(report)}), balance {report.result.get('balance', '-')}"
        )
