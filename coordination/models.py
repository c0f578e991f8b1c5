"""The audit trail: append-only, never cascade-deleted.

Rows keep copies of who and what (user name, agency code, object label) so they
stay readable after the user or object is gone; a PostgreSQL trigger refuses
UPDATE and DELETE, so nobody can quietly rewrite history, not even through SQL.
"""

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models.fields.json import KeyTransform
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import READ_ACTIONS
from .querysets import RestrictedQuerySet


class AuditQuerySet(RestrictedQuerySet):
    """Roles that read the history (auditors, administrators, centre roles) read the whole trail.

    Nobody changes it: no ``change_all``, and nothing below the shortcut.
    """

    view_all = "reads_history"


class AuditRecord(models.Model):
    """Who did what to which object, when, with the state before and after."""

    at = models.DateTimeField(_("time"), default=timezone.now)
    # No database constraint: deleting a user must neither cascade nor rewrite rows.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
    )
    user_name = models.CharField(_("user"), max_length=150, blank=True)
    agency_code = models.CharField(_("agency"), max_length=32, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64)
    object_id = models.BigIntegerField(_("object id"), null=True, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    # The case this concerns, kept as a plain number: the case's timeline.
    case_id = models.BigIntegerField(_("case id"), null=True, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(_("after"), null=True, blank=True, encoder=DjangoJSONEncoder)
    # The hash chain (coordination.chain), filled in by the database at commit: never by us.
    chain_seq = models.BigIntegerField(_("chain position"), null=True, blank=True, unique=True, editable=False)
    # NULL, not "": a record not sealed yet has no hash, and the trigger tests for NULL.
    chain_hash = models.CharField(_("chain hash"), max_length=64, null=True, blank=True, editable=False)  # noqa: DJ001
    sealed_at = models.DateTimeField(_("sealed at"), null=True, blank=True, editable=False)

    objects = AuditQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit record")
        verbose_name_plural = _("audit records")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["case_id", "at"], name="audit_case_idx"),
            models.Index(fields=["object_type", "object_id", "at"], name="audit_object_idx"),
            models.Index(fields=["-at", "-id"], name="audit_time_idx"),
            models.Index(fields=["user", "-at"], name="audit_user_idx"),
            # "Who read this case's data" (``?case=``): a read of a list names its cases in
            # ``after.cases``; only read rows carry it, so the index holds only them.
            GinIndex(
                OpClass(KeyTransform("cases", "after"), name="jsonb_path_ops"),
                condition=models.Q(action__in=sorted(READ_ACTIONS)),
                name="audit_read_cases_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.user_name} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not self._state.adding:
            raise RuntimeError("Audit records are append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("Audit records are append-only.")


class AuditChainHead(models.Model):
    """The last sealed record's position and hash (one row, ``id`` 1), locked by each commit that seals.

    Written only by the database's ``audit_seal`` trigger; the platform's role may read it.
    Exported on a schedule (``coordination.tasks.export_audit_head``) so that a truncated or
    rebuilt trail shows against the copies kept outside the database.
    """

    id = models.SmallIntegerField(primary_key=True)
    seq = models.BigIntegerField()
    hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")
        verbose_name_plural = _("audit chain heads")
        constraints = [models.CheckConstraint(condition=models.Q(id=1), name="audit_chain_head_single_row")]

    def __str__(self) -> str:
        return f"{self.seq} {self.hash}"
