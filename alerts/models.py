"""Deliveries to partner endpoints (the outbox), their attempts, and notifications."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import AttemptFailure, DeliveryState, NotificationKind
from .kinds import render
from .querysets import DeliveryQuerySet, NotificationQuerySet


class Delivery(models.Model):
    """One push of one task to one agency's endpoint: the outbox row.

    Written in the approving transaction; the Celery message is only the fast
    path. ``id`` is the ``Idempotency-Key`` and stays the same on every retry and
    on a supervisor's re-send.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.ForeignKey("cases.Task", on_delete=models.PROTECT, related_name="deliveries")
    agency = models.ForeignKey("agencies.Agency", on_delete=models.PROTECT, related_name="deliveries")
    state = models.CharField(_("state"), max_length=16, choices=DeliveryState.choices, default=DeliveryState.PENDING)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    # Past this the delivery is dead-lettered (24 h, never past a stop-payment's lapse).
    give_up_at = models.DateTimeField(_("give up at"))
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    # When the job was last put on the broker; the sweeper re-queues stale ones.
    queued_at = models.DateTimeField(_("queued at"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    last_status = models.PositiveSmallIntegerField(_("last status"), null=True, blank=True)
    # The class of the last failure (``AttemptFailure``): what the agency is told.
    last_error = models.CharField(_("last error"), max_length=500, blank=True)
    # What the partner's refusal said (its JSON ``detail``...): shown to the centre only.
    partner_reason = models.CharField(_("partner's reason"), max_length=300, blank=True)
    # The claim: a job owns the delivery until ``locked_until`` (longer than one HTTP
    # attempt can last). No transaction stays open across the HTTP call; the outcome
    # is written only by the holder of ``lease_token``. A killed worker's lease simply
    # runs out and the sweeper re-queues the delivery.
    locked_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    lease_token = models.UUIDField(null=True, blank=True, editable=False)
    # The push's JSON (alerts.payloads.push_body), prepared in the approving transaction: the
    # claim returns it with the lease, so no attempt reads the task and its case again.
    # Empty on rows from before it existed; the worker builds theirs at the claim.
    body = models.TextField(_("push body"), blank=True, editable=False)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="delivery_due_idx"),
            models.Index(fields=["task", "-created_at"], name="delivery_task_idx"),
            # The sweeper and the per-agency in-flight count read only open deliveries.
            models.Index(fields=["next_attempt_at"], name="delivery_pending_idx", condition=models.Q(state="pending")),
            models.Index(
                fields=["agency", "locked_until"], name="delivery_inflight_idx", condition=models.Q(state="pending")
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} → {self.agency_id}"

    @property
    def failure_label(self) -> str:
        """The last failure in words: "HTTP 503", or the class of a failure without an answer."""
        return failure_label(self.last_status, self.last_error)


def failure_label(status: int | None, failure: str) -> str:
    if status is not None:
        return f"HTTP {status}"
    labels = dict(AttemptFailure.choices)
    return str(labels.get(failure, failure))


class DeliveryAttempt(models.Model):
    """One HTTP attempt of a delivery: when, what came back, how long it took."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="attempt_log")
    at = models.DateTimeField(_("time"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("status code"), null=True, blank=True)
    error = models.CharField(_("error"), max_length=500, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)

    class Meta:
        verbose_name = _("delivery attempt")
        verbose_name_plural = _("delivery attempts")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.at:%H:%M:%S} {self.status_code or self.error}"

    @property
    def outcome(self) -> str:
        """ "HTTP 202", "HTTP 503", or the class of failure ("Timed out"), in the reader's language."""
        return failure_label(self.status_code, self.error)


class Notification(models.Model):
    """A message to one person about one task (or a digest), in the app and optionally by email.

    The row holds a kind and parameters; its text is drawn when shown, in the
    reader's language (``alerts.kinds``). ``dedupe_key`` names what the row is
    about (``overdue:<task>``), unique per person: a repeated event of the same
    kind for the same task collapses into the row (``count`` + 1, ``last_at``
    moved, undone again) instead of a new one. ``event_key`` names the last event
    counted, so the same event delivered twice counts once.

    ``done``/``done_at``: the person dealt with it (``mark_notifications_done``).
    ``title``/``body`` are only the stored texts of rows written before texts were drawn.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(_("kind"), max_length=32, choices=NotificationKind.choices)
    params = models.JSONField(_("parameters"), default=dict, blank=True)
    title = models.CharField(_("title"), max_length=200, blank=True)
    body = models.TextField(_("body"), blank=True)
    url = models.CharField(_("link"), max_length=300, blank=True)
    task = models.ForeignKey("cases.Task", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    dedupe_key = models.CharField(max_length=200)
    event_key = models.CharField(max_length=200, blank=True)
    count = models.PositiveIntegerField(_("times"), default=1)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    last_at = models.DateTimeField(_("latest"), default=timezone.now)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)
    done = models.BooleanField(_("done"), default=False)
    done_at = models.DateTimeField(_("done at"), null=True, blank=True)
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    objects = NotificationQuerySet.as_manager()

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-last_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "dedupe_key"], name="notification_dedupe_uniq"),
            models.CheckConstraint(
                condition=models.Q(done=False, done_at__isnull=True) | models.Q(done=True, done_at__isnull=False),
                name="notification_done_at_matches",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "read_at", "-created_at"], name="notification_inbox_idx"),
            # The API's list and the page's groups: newest activity first.
            models.Index(fields=["user", "-last_at", "-id"], name="notification_latest_idx"),
            # The badge and the "to do" groups read only a person's undone rows.
            models.Index(
                fields=["user", "case", "-last_at"], name="notification_undone_idx", condition=models.Q(done=False)
            ),
        ]

    def __str__(self) -> str:
        return self.text[0]

    @property
    def text(self) -> tuple[str, str]:
        """``(title, body)`` in the active language."""
        return render(self)

    @property
    def display_title(self) -> str:
        return self.text[0]

    @property
    def display_body(self) -> str:
        return self.text[1]
