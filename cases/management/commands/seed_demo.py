"""``seed_demo``: demo users and a few hundred demo cases (idempotent)."""

from django.core.management.base import BaseCommand

from cases.demo import seed_demo


class Command(BaseCommand):
    help = "Create the demo users and demo cases unless they already exist."

    def add_arguments(self, parser):
        parser.add_argument("--cases", type=int, default=300)

    def handle(self, *args, cases, **options):
        created = seed_demo(cases=cases)
        self.stdout.write(f"Demo data: {created} cases created." if created else "Demo data already present.")
