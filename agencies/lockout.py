"""Login lockout: per account whatever the address, and per address across accounts.

django-axes counted failures per (user name, address) pair, so four guesses at
each of many accounts from one address locked nobody, and one account guessed
from many addresses never locked either. Now:

- **per account**: ``AXES_FAILURE_LIMIT`` failures at one user name within
  ``AXES_COOLOFF_TIME``, from any address, lock that account for the cool-off
  (axes, ``AXES_LOCKOUT_PARAMETERS = ["username"]``);
- **per address**: ``LOGIN_ADDRESS_FAILURE_LIMIT`` failures from one address
  within the same window, whatever the user names, stop logins from that address
  for the cool-off (``AccountAndAddressHandler.get_failures``, counted from axes'
  own attempt rows). The limit is higher: a centre behind one NAT address has
  many people mistyping.

A success resets only that account's count (``AXES_RESET_ON_SUCCESS``), so a
guesser who owns one account cannot clear the address's count by logging in.
Each lock is audited once (``auth.lockout``, by ``system``, with the user name,
the address and which limit), and the refusal (429) says which limit and for how
long (``locked_out``).
"""

from __future__ import annotations

import math

from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username, get_cool_off, get_failure_limit
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.core.cache import cache
from django.db.models import Sum
from django.dispatch import receiver
from django.shortcuts import render
from django.utils import timezone

ACCOUNT = "account"
ADDRESS = "address"


def address_failures(ip_address: str | None, request=None) -> int:
    """Failed logins from ``ip_address`` within the cool-off window, over every user name."""
    if not ip_address:
        return 0
    since = timezone.now() - get_cool_off(request)
    total = AccessAttempt.objects.filter(ip_address=ip_address, attempt_time__gte=since).aggregate(
        n=Sum("failures_since_start")
    )["n"]
    return total or 0


class AccountAndAddressHandler(AxesDatabaseHandler):
    """axes' database handler, also locking an address past ``LOGIN_ADDRESS_FAILURE_LIMIT``."""

    def get_failures(self, request, credentials=None) -> int:
        per_account = super().get_failures(request, credentials)
        limit = get_failure_limit(request, credentials)
        address_limit = settings.LOGIN_ADDRESS_FAILURE_LIMIT
        ip_address = getattr(request, "axes_ip_address", None)
        if address_limit and address_failures(ip_address, request) >= address_limit:
            request.lockout_scope = ADDRESS
            return max(per_account, limit)
        if per_account >= limit:
            request.lockout_scope = ACCOUNT
        return per_account


def cool_off_minutes(request=None) -> int:
    return max(1, math.ceil(get_cool_off(request).total_seconds() / 60))


def locked_out(request, original_response=None, credentials=None):
    """The refusal page: which limit, for how long (429, in the reader's language)."""
    context = {
        "scope": getattr(request, "lockout_scope", ACCOUNT),
        "minutes": cool_off_minutes(request),
        "username": get_client_username(request, credentials) or "",
    }
    return render(request, "registration/locked_out.html", context, status=settings.AXES_HTTP_RESPONSE_CODE)


@receiver(user_locked_out, dispatch_uid="agencies.lockout.audit")
def audit_lockout(sender, request, username, ip_address, **kwargs):
    """One audit row per lock (axes signals on every refused attempt while it lasts)."""
    from coordination.audit import record
    from coordination.choices import AuditAction

    from .models import User

    scope = getattr(request, "lockout_scope", ACCOUNT)
    subject = ip_address if scope == ADDRESS else (username or "")
    seconds = int(get_cool_off(request).total_seconds())
    if not cache.add(f"lockout:{scope}:{subject}", 1, timeout=seconds):
        return
    account = User.objects.filter(username=username).first() if username else None
    record(
        user=None,
        action=AuditAction.AUTH_LOCKOUT,
        object_type="agencies.user",
        object_id=account.pk if account else None,
        after={
            "scope": scope,
            "username": username or "",
            "ip_address": ip_address or "",
            "failures": getattr(request, "axes_failures_since_start", None),
            "minutes": cool_off_minutes(request),
        },
    )
