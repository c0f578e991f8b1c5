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


class DeliveryFailure(models.TextChoices):
    """Why a push failed, as a code the notification text is drawn from (never a stored sentence)."""

    REFUSED = "refused", _("Refused by the partner")
    DEAD_LAPSED = "dead_lapsed", _("Dead-lettered: legal window over")
    DEAD_WINDOW = "dead_window", _("Dead-lettered after the retry window")
    OTHER = "other", _("Other")
