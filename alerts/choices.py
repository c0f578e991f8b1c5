from django.db import models
from django.utils.translation import gettext_lazy as _


class DeliveryState(models.TextChoices):
    PENDING = "pending", _("Pending")
    DELIVERED = "delivered", _("Delivered")
    FAILED = "failed", _("Failed permanently")
    DEAD = "dead", _("Dead-lettered")


OPEN_DELIVERY_STATES = frozenset({DeliveryState.PENDING})


class NotificationKind(models.TextChoices):
    NEW_TASK = "new_task", _("New task")
    OVERDUE = "overdue", _("Task overdue")
    LAPSE_WARNING = "lapse_warning", _("Stop-payment about to lapse")
    RENEWAL = "renewal", _("Freeze renewal")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")
    RESULT = "result", _("Result received")
    FOLLOW_UPS = "follow_ups", _("Follow-ups proposed")
