from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed permanently")
    DEAD = "dead", _("Dead-lettered")


OPEN_DELIVERY_STATES = frozenset({DeliveryState.PENDING})


class NotificationKind(models.TextChoices):
    """What a notification is about; its text is drawn from the kind (``alerts.kinds``)."""

    NEW_TASK = "new_task", _("New task")
    OVERDUE = "overdue", _("Task overdue")
    LAPSE_WARNING = "lapse_warning", _("Stop-payment about to lapse")
    EXPIRED = "expired", _("Measure lapsed")
    RENEWAL = "renewal", _("Freeze renewal")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    RESULT = "result", _("Result received")
    REJECTED = "rejected", _("Task rejected")
    FOLLOW_UPS = "follow_ups", _("Follow-ups proposed")
    DIGEST = "digest", _("Digest")
    # The review app's supervision items (督办事项): no task, the item in ``params``.
    SUPERVISION_OVERDUE = "supervision_overdue", _("Supervision item overdue")
    WARNING_ESCALATED = "warning_escalated", _("Warning not reached in time")


class DeliveryFailure(models.TextChoices):
    """Why a push failed, as a code the notification text is drawn from (never a stored sentence)."""

    REFUSED = "refused", _("Refused by the partner")
    DEAD_LAPSED = "dead_lapsed", _("Dead-lettered: legal window over")
    DEAD_WINDOW = "dead_window", _("Dead-lettered after the retry window")
    BLOCKED = "blocked", _("Endpoint address not allowed")
    OTHER = "other", _("Other")


class AttemptFailure(models.TextChoices):
    """What went wrong with one push attempt, as the agency and the centre are told it.

    Only the class of failure: never an address, an exception's text or a body.
    The worker's log keeps the detail for operators.
    """

    TIMEOUT = "timeout", _("Timed out")
    REFUSED = "refused", _("Connection refused")
    TLS = "tls", _("TLS handshake or certificate failed")
    NETWORK = "network", _("Network error")
    BLOCKED = "blocked_address", _("Endpoint address not allowed")
    HTTP_3XX = "http_3xx", _("HTTP redirect (not followed)")
    HTTP_4XX = "http_4xx", _("HTTP 4xx from the partner")
    HTTP_5XX = "http_5xx", _("HTTP 5xx from the partner")
    CANCELLED = "cancelled", _("Task cancelled before it was delivered")


def http_failure(status: int | None) -> str:
    """The failure class of an HTTP answer ('' for a success)."""
    if status is None or status < 300 or status == 409:
        return ""
    if status < 400:
        return AttemptFailure.HTTP_3XX
    return AttemptFailure.HTTP_4XX if status < 500 else AttemptFailure.HTTP_5XX
