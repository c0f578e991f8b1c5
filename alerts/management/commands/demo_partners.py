"""``demo_partners --simulator-url URL --config FILE``: point demo agencies at the simulator.

Registers each demo partner's endpoint (``URL/<CODE>/``) with a fresh secret,
makes sure it has a partner-system API user, and writes the secrets and tokens
to the simulator's config file. The simulator's address must be on the operator's
allow-list (``PUSH_ALLOWED_HOSTS``; ``make run`` puts it there), or the endpoint
rule refuses it (it is on loopback and plain HTTP).
"""

import json
from datetime import timedelta
from pathlib import Path

from django.core.management.base import BaseCommand

from agencies.actions import ensure_api_user, set_endpoint
from agencies.models import Agency

DEMO_PARTNERS = [
    "ICBC",
    "ABC",
    "BOC",
    "CCB",
    "CMB",
    "ALIPAY",
    "TENPAY",
    "CMCC",
    "CUCC",
    "CTCC",
    "TENCENT",
    "BYTEDANCE",
    "CAC-CD",
]


class Command(BaseCommand):
    help = "Register the demo partners' endpoints at the simulator and write its config."

    def add_arguments(self, parser):
        parser.add_argument("--simulator-url", required=True)
        parser.add_argument("--config", required=True)

    def handle(self, *args, simulator_url, config, **options):
        base = simulator_url.rstrip("/")
        out = {"agencies": {}}
        for agency in Agency.objects.filter(code__in=DEMO_PARTNERS):
            # The simulator's config is rewritten at the same moment: no overlap to wait out.
            agency, secret = set_endpoint(
                agency, url=f"{base}/{agency.code}/", secret=None, acting_user=None, overlap=timedelta(0)
            )
            _user, token = ensure_api_user(username=f"{agency.code.lower()}_system", agency=agency, role="liaison")
            out["agencies"][agency.code] = {"secret": secret, "token": token, "sector": agency.sector}
        path = Path(config)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(out, indent=2))
        path.chmod(0o600)
        self.stdout.write(f"{len(out['agencies'])} demo partners point at {base}; config in {path}.")
