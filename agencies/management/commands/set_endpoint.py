"""``set_endpoint CODE URL [--secret S]`` or ``set_endpoint CODE --clear``."""

from datetime import timedelta

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from agencies.actions import clear_endpoint, set_endpoint
from agencies.models import Agency


class Command(BaseCommand):
    help = "Register, change or remove an agency's liaison endpoint."

    def add_arguments(self, parser):
        parser.add_argument("code")
        parser.add_argument("url", nargs="?")
        parser.add_argument("--secret", help="shared secret; a random one is generated and printed when omitted")
        parser.add_argument("--clear", action="store_true", help="remove the endpoint")
        parser.add_argument(
            "--overlap-hours",
            type=float,
            default=None,
            help="hours the replaced secret still signs pushes beside the new one "
            "(default ENDPOINT_SECRET_OVERLAP_HOURS, 24; 0 stops it at once)",
        )

    def handle(self, *args, code, url, secret, clear, overlap_hours, **options):
        agency = Agency.objects.filter(code=code).first()
        if agency is None:
            raise CommandError(f"No agency with code {code!r}.")
        if clear:
            if url:
                raise CommandError("Give either a URL or --clear, not both.")
            clear_endpoint(agency, acting_user=None)
            self.stdout.write(f"Endpoint of {code} removed.")
            return
        if not url:
            raise CommandError("Give the endpoint URL, or --clear.")
        if overlap_hours is not None and not 0 <= overlap_hours <= 24 * 365:
            raise CommandError("--overlap-hours must be between 0 and 8760.")
        overlap = None if overlap_hours is None else timedelta(hours=overlap_hours)
        try:
            agency, used = set_endpoint(agency, url=url, secret=secret, acting_user=None, overlap=overlap)
        except ValidationError as exc:
            raise CommandError("; ".join(exc.messages)) from exc
        self.stdout.write(f"Endpoint of {code} set to {url}.")
        if agency.old_secret_live():
            until = agency.endpoint_old_secret_until.isoformat(timespec="seconds")
            self.stdout.write(f"The previous secret {agency.old_secret_hint} also signs pushes until {until}.")
        if not secret:
            self.stdout.write(f"Secret (shown once): {used}")
