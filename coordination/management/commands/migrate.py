"""``migrate`` as the database's owner (``DATABASE_OWNER_URL``): the platform's own role owns nothing."""

from django.core.management.commands.migrate import Command as MigrateCommand
from django.db import connections

from coordination.dbroles import as_owner


class Command(MigrateCommand):
    def handle(self, *args, **options):
        with as_owner(connections[options["database"]]):
            return super().handle(*args, **options)
