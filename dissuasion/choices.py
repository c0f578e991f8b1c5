from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    HIGH = "high", _("High")
    MEDIUM = "medium", _("Medium")
    LOW = "low", _("Low")


#: Raising a level one step (a hot identifier).
RAISED = {Level.LOW: Level.MEDIUM, Level.MEDIUM: Level.HIGH, Level.HIGH: Level.HIGH}


class Outcome(models.TextChoices):
    PENDING = "pending", _("Not reached yet")
    REACHED = "reached", _("Reached and dissuaded")
    UNREACHABLE = "unreachable", _("Unreachable")
    ALREADY_LOST = "already_lost", _("Already lost")


class ContactMethod(models.TextChoices):
    CALL = "call", _("Call")
    VISIT = "visit", _("Visit")
