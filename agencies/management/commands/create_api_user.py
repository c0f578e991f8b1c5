"""``create_api_user USERNAME --agency CODE --role ROLE``: print the user's API token."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agencies.actions import ensure_api_user
from agencies.choices import Role
from agencies.models import Agency


class Command(BaseCommand):
    help = "Create (or find) an API user of an agency with a role and print its token."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--agency", required=True, help="agency code, e.g. CCB")
        parser.add_argument("--role", required=True, choices=Role.values)

    def handle(self, *args, username, agency, role, **options):
        found = Agency.objects.filter(code=agency).first()
        if found is None:
            raise CommandError(f"No agency with code {agency!r}.")
        try:
            _user, key = ensure_api_user(username=username, agency=found, role=role)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(key)
