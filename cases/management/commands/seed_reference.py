"""``seed_reference``: the agencies roster and reference data, idempotent."""

from django.core.management.base import BaseCommand
from django.db import transaction

from agencies.seed import seed_agencies
from cases.seed import seed_reference


class Command(BaseCommand):
    help = "Create the seeded agencies and reference data that are missing (safe to run again)."

    @transaction.atomic
    def handle(self, *args, **options):
        agencies = seed_agencies()
        reference = seed_reference()
        self.stdout.write(f"Seeded {agencies} agencies and {reference} reference rows.")
