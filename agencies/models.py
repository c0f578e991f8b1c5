"""Agencies, their people and roles."""

from django.contrib.auth.models import AbstractUser, UserManager
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from . import roles
from .choices import Role, Sector
from .querysets import AgencyQuerySet, UserQuerySet

agency_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9-]{0,31}$",
    _("Agency codes are upper-case letters, digits and hyphens."),
)


class Agency(models.Model):
    """An organisation on the platform: the centre, a bank, an operator, a court...

    The joint-meeting roster is the ``is_member`` flag: data an administrator
    edits, not code. An agency with ``endpoint_url`` receives signed pushes.
    """

    code = models.CharField(_("code"), max_length=32, unique=True, validators=[agency_code_validator])
    name = models.CharField(_("Chinese name"), max_length=120)
    name_en = models.CharField(_("English name"), max_length=200, blank=True)
    sector = models.CharField(_("sector"), max_length=32, choices=Sector.choices, db_index=True)
    parent = models.ForeignKey(
        "self", verbose_name=_("parent"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    is_member = models.BooleanField(_("joint-meeting member"), default=False, db_index=True)
    is_active = models.BooleanField(_("active"), default=True)
    endpoint_url = models.URLField(_("liaison endpoint"), blank=True, max_length=500)
    # Stored as given: the platform must sign with it. Never rendered back in full
    # (see ``secret_hint``).
    endpoint_secret = models.CharField(_("endpoint secret"), max_length=200, blank=True)
    endpoint_changed_at = models.DateTimeField(_("endpoint changed at"), null=True, blank=True)
    # Secret rotation (protocol v1.1): the secret replaced last still signs pushes, beside the
    # new one, until ``endpoint_old_secret_until``; then it is dropped. Never rendered back.
    endpoint_old_secret = models.CharField(_("previous endpoint secret"), max_length=200, blank=True)
    endpoint_old_secret_until = models.DateTimeField(_("previous secret valid until"), null=True, blank=True)

    objects = AgencyQuerySet.as_manager()

    class Meta:
        verbose_name = _("agency")
        verbose_name_plural = _("agencies")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def display_name(self) -> str:
        """The name in the active language: the English one on English pages when there is one."""
        if self.name_en and (get_language() or "").startswith("en"):
            return self.name_en
        return self.name

    @property
    def has_endpoint(self) -> bool:
        return bool(self.endpoint_url and self.endpoint_secret)

    def old_secret_live(self, now=None) -> bool:
        """Whether the previous secret is still within its overlap window."""
        until = self.endpoint_old_secret_until
        return bool(self.endpoint_old_secret and until and until > (now or timezone.now()))

    def live_secrets(self, now=None) -> list[str]:
        """The secrets a push is signed with now: the current one, then the previous one in its window."""
        secrets = [self.endpoint_secret] if self.endpoint_secret else []
        if self.old_secret_live(now) and self.endpoint_old_secret not in secrets:
            secrets.append(self.endpoint_old_secret)
        return secrets

    @property
    def old_secret_hint(self) -> str:
        return f"…{self.endpoint_old_secret[-4:]}" if self.endpoint_old_secret else ""

    @property
    def secret_hint(self) -> str:
        """The last four characters, enough to tell two secrets apart."""
        return f"…{self.endpoint_secret[-4:]}" if self.endpoint_secret else ""


class AgencyUserManager(UserManager.from_queryset(UserQuerySet)):
    """Django's user manager with the visibility rule."""


class User(AbstractUser):
    """A person or partner system: one agency, one role.

    Administrators are superusers; every other user has a role. What each may
    see and do is ``policy`` (``agencies.roles``).
    """

    agency = models.ForeignKey(
        Agency, verbose_name=_("agency"), on_delete=models.PROTECT, related_name="users", null=True, blank=True
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, blank=True, db_index=True)
    notify_by_email = models.BooleanField(_("notify by email"), default=False)
    notify_in_app = models.BooleanField(_("notify in the app"), default=True)

    objects = AgencyUserManager()

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")

    @property
    def policy(self) -> roles.RolePolicy:
        """What this user may see and do (``agencies.roles``); read afresh on every access."""
        return roles.policy_for(self)

    @property
    def sees_all(self) -> bool:
        """Sees every case and task (centre roles, auditors and administrators; auditors read-only)."""
        return self.policy.sees_all_cases

    @property
    def is_agency_user(self) -> bool:
        """Works for an agency on its tasks (a liaison or manager with an agency)."""
        return roles.is_agency_user(self)
