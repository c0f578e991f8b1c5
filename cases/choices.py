"""Vocabularies of cases and tasks, and the task state machine in one table."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseStatus(models.TextChoices):
    OPEN = "open", _("Open")
    FILED = "filed", _("Filed")
    CLOSED = "closed", _("Closed")


# The case's states and every allowed move, in one table (``Case.transition_to``).
# A case is filed once; it may be closed unfiled (no crime, a duplicate) or filed.
# A closed case is the record of the review: nothing moves it, nothing changes it.
CASE_TRANSITIONS: dict[str, frozenset[str]] = {
    CaseStatus.OPEN: frozenset({CaseStatus.FILED, CaseStatus.CLOSED}),
    CaseStatus.FILED: frozenset({CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
}


class CaseOutcome(models.TextChoices):
    """How a closed case ended (closure and review): what came back to the victims."""

    RETURNED = "returned", _("Money returned to the victims")
    PARTLY_RETURNED = "partly_returned", _("Part of the money returned")
    NOT_RECOVERED = "not_recovered", _("Nothing recovered")
    REFERRED_TO_COURT = "referred_to_court", _("Untraceable money referred to the court")
    NO_CRIME = "no_crime", _("No fraud, or a duplicate report")


class CaseLinkState(models.TextChoices):
    """A link set by hand between two cases: joined (串并), or judged unrelated despite a shared identifier."""

    LINKED = "linked", _("Linked by hand")
    UNLINKED = "unlinked", _("Unlinked")


class TaskType(models.TextChoices):
    """The codes and names of partner protocol v1's task types.

    Everything else true of a type (who may receive it, who approves it, its
    result fields, its lapse, its page, the demo partner's answer) is its
    declaration in ``cases.task_types``; lists of types read that registry, so a
    type added there needs no member here.
    """

    EMERGENCY_STOP_PAYMENT = "emergency_stop_payment", _("Emergency stop-payment")
    FREEZE = "freeze", _("Freeze")
    ACCOUNT_QUERY = "account_query", _("Account query")
    NUMBER_SHUTDOWN = "number_shutdown", _("Number shutdown")
    NUMBER_TRACE = "number_trace", _("Number trace")
    URL_BLOCK = "url_block", _("URL / domain block")
    ACCOUNT_BAN = "account_ban", _("Platform account ban")
    VICTIM_WARNING = "victim_warning", _("Victim warning")
    OTHER = "other", _("Other / coordination")


class TaskState(models.TextChoices):
    PENDING_APPROVAL = "pending_approval", _("Pending approval")
    APPROVED = "approved", _("Approved")
    DISPATCHED = "dispatched", _("Dispatched")
    ACCEPTED = "accepted", _("Accepted")
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")
    EXPIRED = "expired", _("Expired")


S = TaskState
# Every allowed transition, and only these (partner protocol, "Task states").
# A partner may report a result straight from ``dispatched``: an automated bank
# system acknowledges by acting.
TASK_TRANSITIONS: dict[str, frozenset[str]] = {
    S.PENDING_APPROVAL: frozenset({S.APPROVED, S.CANCELLED}),
    S.APPROVED: frozenset({S.DISPATCHED, S.CANCELLED}),
    S.DISPATCHED: frozenset({S.ACCEPTED, S.REJECTED, S.COMPLETED, S.FAILED, S.CANCELLED}),
    S.ACCEPTED: frozenset({S.COMPLETED, S.FAILED, S.REJECTED, S.CANCELLED}),
    S.COMPLETED: frozenset({S.EXPIRED}),
    S.FAILED: frozenset(),
    S.REJECTED: frozenset(),
    S.CANCELLED: frozenset(),
    S.EXPIRED: frozenset(),
}
OPEN_TASK_STATES = frozenset({S.PENDING_APPROVAL, S.APPROVED, S.DISPATCHED, S.ACCEPTED})
# States in which the assigned agency still owes an answer (deadline applies).
AWAITING_AGENCY_STATES = frozenset({S.APPROVED, S.DISPATCHED, S.ACCEPTED})
# Stop-payments and freezes in these states hold money now.
HOLDING_STATES = frozenset({S.COMPLETED})


class TargetKind(models.TextChoices):
    BANK_ACCOUNT = "bank_account", _("Bank account")
    PHONE = "phone", _("Phone number")
    URL = "url", _("URL / domain")
    APP = "app", _("App")
    SOCIAL_ACCOUNT = "social_account", _("Social account")
    PERSON = "person", _("Person")
    NONE = "none", _("None")


class IdentifierKind(models.TextChoices):
    BANK_ACCOUNT = "bank_account", _("Bank account")
    PHONE = "phone", _("Phone number")
    URL = "url", _("URL / domain")
    APP = "app", _("App")
    SOCIAL_ACCOUNT = "social_account", _("Social account")
    PERSON = "person", _("Person")


class IdentifierRole(models.TextChoices):
    VICTIM_ACCOUNT = "victim_account", _("Victim's account")
    RECEIVING_ACCOUNT = "receiving_account", _("Receiving account")
    ONWARD_ACCOUNT = "onward_account", _("Onward account")
    VICTIM_PHONE = "victim_phone", _("Victim's phone")
    SUSPECT = "suspect", _("Suspect identifier")


class TransferSource(models.TextChoices):
    VICTIM_REPORT = "victim_report", _("Victim report")
    PARTNER_RESULT = "partner_result", _("Partner result")


class ResultStatus(models.TextChoices):
    COMPLETED = "completed", _("Completed")
    FAILED = "failed", _("Failed")


class WarningOutcome(models.TextChoices):
    REACHED = "reached", _("Reached")
    UNREACHABLE = "unreachable", _("Unreachable")
    ALREADY_LOST = "already_lost", _("Already lost")


class ProposalState(models.TextChoices):
    PROPOSED = "proposed", _("Proposed")
    ISSUED = "issued", _("Issued")
    DISMISSED = "dismissed", _("Dismissed")


class TaskEvent(models.TextChoices):
    """What a task change announces (``cases.signals.task_event``); the alerts app decides who is told."""

    NEW = "task_new", _("New task")
    RESULT = "task_result", _("Result received")
    REJECTED = "task_rejected", _("Task rejected by the agency")
    FOLLOW_UPS = "follow_ups", _("Follow-ups proposed")
    DELIVERY_FAILED = "delivery_failed", _("Delivery failed")


class DistrictKind(models.TextChoices):
    DISTRICT = "district", _("District")
    CITY = "county_city", _("County-level city")
    COUNTY = "county", _("County")
    ZONE = "zone", _("Functional zone")
