"""``flush`` as the database's owner: it truncates every table, which the platform's role may not."""

from django.core.management.commands.flush import Command as FlushCommand
from django.db import connections

from coordination.dbroles import as_owner


class Command(FlushCommand):
    def handle(self, **options):
        with as_owner(connections[options["database"]]):
            return super().handle(**options)
