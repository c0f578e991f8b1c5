"""Changes to agencies and people, each with its audit row."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from coordination import audit
from coordination.audit import snapshot
from coordination.choices import AuditAction

from .choices import CENTRE_AGENCY_CODE, Role
from .endpoints import check_endpoint_url
from .models import Agency, User
from .roles import CENTRE_ROLES


def new_secret() -> str:
    return secrets.token_urlsafe(32)


ENDPOINT_FIELDS = ["endpoint_url", "endpoint_secret", "endpoint_old_secret_until"]


def default_overlap() -> timedelta:
    return timedelta(hours=settings.ENDPOINT_SECRET_OVERLAP_HOURS)


@transaction.atomic
def set_endpoint(
    agency: Agency,
    *,
    url: str,
    secret: str | None,
    acting_user: User | None,
    overlap: timedelta | None = None,
) -> tuple[Agency, str]:
    """Register or change an agency's liaison endpoint; returns the secret in force.

    Without ``secret`` a new random one is generated (shown once to the caller).
    The URL must pass the endpoint rule (``agencies.endpoints``). When the secret
    changes, the one it replaces keeps signing pushes beside it for ``overlap``
    (default ``ENDPOINT_SECRET_OVERLAP_HOURS``; zero drops it at once), so the
    partner can switch within the window (protocol v1.1). One previous secret is
    kept: a second rotation within the window drops the oldest.
    """
    overlap = default_overlap() if overlap is None else overlap
    if overlap < timedelta(0):
        raise ValidationError({"overlap": "The overlap must not be negative."})
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = snapshot(agency, ENDPOINT_FIELDS)
    now = timezone.now()
    new = secret or new_secret()
    if new != agency.endpoint_secret:
        if agency.endpoint_secret and overlap > timedelta(0):
            agency.endpoint_old_secret, agency.endpoint_old_secret_until = agency.endpoint_secret, now + overlap
        else:
            agency.endpoint_old_secret, agency.endpoint_old_secret_until = "", None
    elif not agency.old_secret_live(now):
        agency.endpoint_old_secret, agency.endpoint_old_secret_until = "", None
    agency.endpoint_url = url
    agency.endpoint_secret = new
    agency.endpoint_changed_at = now
    agency.full_clean(validate_unique=False)
    check_endpoint_url(url)
    agency.save(
        update_fields=[
            "endpoint_url",
            "endpoint_secret",
            "endpoint_old_secret",
            "endpoint_old_secret_until",
            "endpoint_changed_at",
        ]
    )
    audit.record(
        user=acting_user,
        action=AuditAction.AGENCY_SET_ENDPOINT,
        obj=agency,
        before=before,
        after=snapshot(agency, ENDPOINT_FIELDS),
    )
    return agency, agency.endpoint_secret


@transaction.atomic
def clear_endpoint(agency: Agency, *, acting_user: User | None) -> Agency:
    agency = Agency.objects.select_for_update().get(pk=agency.pk)
    before = snapshot(agency, ENDPOINT_FIELDS)
    agency.endpoint_url, agency.endpoint_secret = "", ""
    agency.endpoint_old_secret, agency.endpoint_old_secret_until = "", None
    agency.endpoint_changed_at = timezone.now()
    agency.save(
        update_fields=[
            "endpoint_url",
            "endpoint_secret",
            "endpoint_old_secret",
            "endpoint_old_secret_until",
            "endpoint_changed_at",
        ]
    )
    audit.record(
        user=acting_user,
        action=AuditAction.AGENCY_CLEAR_ENDPOINT,
        obj=agency,
        before=before,
        after=snapshot(agency, ENDPOINT_FIELDS),
    )
    return agency


def validate_membership(agency: Agency, role: str) -> None:
    """Centre roles belong to the anti-fraud centre; agency roles to any agency."""
    if role not in Role.values:
        raise ValidationError({"role": f"Unknown role {role!r}; one of {', '.join(Role.values)}."})
    if role in CENTRE_ROLES and agency.code != CENTRE_AGENCY_CODE:
        raise ValidationError({"role": f"The {role} role belongs to the anti-fraud centre ({CENTRE_AGENCY_CODE})."})


@transaction.atomic
def create_user(
    *, username: str, agency: Agency, role: str, acting_user: User | None, password: str | None = None, **extra
) -> User:
    """Create a person or partner system with one agency and one role."""
    validate_membership(agency, role)
    user = User(username=username, agency=agency, role=role, **extra)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.full_clean(exclude=["password"])
    user.save()
    audit.record(
        user=acting_user,
        action=AuditAction.USER_CREATE,
        obj=user,
        after={"username": username, "agency": agency.code, "role": role},
    )
    return user


@transaction.atomic
def ensure_api_user(*, username: str, agency: Agency, role: str, acting_user: User | None = None) -> tuple[User, str]:
    """The user and its API token; run again, the same token (partner protocol)."""
    user = User.objects.filter(username=username).first()
    if user is None:
        user = create_user(username=username, agency=agency, role=role, acting_user=acting_user)
    elif user.agency_id != agency.pk or user.role != role:
        validate_membership(agency, role)
        before = {"agency": user.agency_id, "role": user.role}
        user.agency, user.role = agency, role
        user.save(update_fields=["agency", "role"])
        audit.record(
            user=acting_user,
            action=AuditAction.USER_UPDATE,
            obj=user,
            before=before,
            after={"agency": agency.pk, "role": role},
        )
    token, created = Token.objects.get_or_create(user=user)
    if created:
        audit.record(user=acting_user, action=AuditAction.USER_TOKEN_CREATED, obj=user, after={"username": username})
    return user, token.key
