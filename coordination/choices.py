"""The audit trail's vocabulary: every action code an audit row may carry.

The codes are stored in ``AuditRecord.action`` and filtered on by people
reading the trail, so they never change; the labels say them in words.
The admin's own rows (``<model>.admin_add``/``admin_change``) are composed
from the model's name and are not listed.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class AuditAction(models.TextChoices):
    # Agencies and people.
    AGENCY_SET_ENDPOINT = "agency.set_endpoint", _("Endpoint set")
    AGENCY_CLEAR_ENDPOINT = "agency.clear_endpoint", _("Endpoint removed")
    USER_CREATE = "user.create", _("User created")
    USER_UPDATE = "user.update", _("User changed")
    USER_TOKEN_CREATED = "user.token_created", _("API token created")
    AUTH_LOCKOUT = "auth.lockout", _("Logins locked after failed attempts")
    # Cases.
    CASE_CREATE = "case.create", _("Case recorded")
    # Historical records (imports): one row per imported case, naming the file and row.
    CASE_IMPORT = "case.import", _("Case imported")
    STATEMENT_IMPORT = "task.statement_import", _("Bank statement imported")
    CASE_UPDATE = "case.update", _("Case corrected")
    CASE_FILE = "case.file", _("Case filed")
    CASE_CLOSE = "case.close", _("Case closed")
    CASE_SHARE = "case.share", _("Case shared")
    CASE_UNSHARE = "case.unshare", _("Share withdrawn")
    CASE_VIEW = "case.view", _("Case read")
    CASE_LINK = "case.link", _("Cases linked")
    CASE_UNLINK = "case.unlink", _("Cases unlinked")
    CASE_PSEUDONYMISE = "case.pseudonymise", _("Personal data pseudonymised (retention)")
    VICTIM_CREATE = "victim.create", _("Victim added")
    VICTIM_UPDATE = "victim.update", _("Victim corrected")
    CASE_FUNDS_RETURNED = "case.funds_returned", _("Frozen funds returned to the victim")
    CASE_FOLLOW_UPS_PROPOSED = "case.follow_ups_proposed", _("Follow-ups proposed")
    IDENTIFIER_LINK = "identifier.link", _("Identifier linked")
    TRANSFER_CREATE = "transfer.create", _("Transfer recorded")
    TRANSFER_UPDATE = "transfer.update", _("Transfer corrected")
    # Tasks.
    TASK_CREATE = "task.create", _("Task created")
    TASK_APPROVE = "task.approve", _("Task approved")
    TASK_DISPATCH = "task.dispatch", _("Task delivered to the agency")
    TASK_ACCEPT = "task.accept", _("Task accepted by the agency")
    TASK_REJECT = "task.reject", _("Task rejected by the agency")
    TASK_RESULT = "task.result", _("Result reported")
    TASK_CANCEL = "task.cancel", _("Task withdrawn")
    TASK_EXPIRE = "task.expire", _("Measure lapsed")
    TASK_FLAG = "task.flag", _("Flagged for attention")
    TASK_UNFLAG = "task.unflag", _("Flag cleared")
    TASK_OVERDUE = "task.overdue", _("Task overdue")
    TASK_VIEW = "task.view", _("Task read")
    TASK_CONVERT = "task.convert", _("Stop-payment converted into a freeze")
    TASK_RENEW = "task.renew", _("Measure renewed")
    TASK_REISSUE = "task.reissue", _("Task re-issued with corrected details")
    TASK_OBJECTION = "task.objection", _("Objection to a return recorded")
    TASK_OBJECTION_REVIEW = "task.objection_review", _("Objection to a return reviewed")
    # The joint meeting's review (review app).
    REVIEW_WEIGHTS_SET = "review.weights_set", _("Review score weights set")
    SUPERVISION_CREATE = "supervision.create", _("Supervision item assigned")
    SUPERVISION_NOTE = "supervision.note", _("Supervision progress noted")
    SUPERVISION_CLOSE = "supervision.close", _("Supervision item closed")
    SUPERVISION_OVERDUE = "supervision.overdue", _("Supervision item overdue")
    TASK_HAND_OVER = "task.hand_over", _("Warning handed to a police station")
    WARNING_ESCALATE = "warning.escalate", _("Warning escalated")
    # Deliveries.
    DELIVERY_RESEND = "delivery.resend", _("Delivery re-sent")
    # Notifications.
    NOTIFICATION_DONE = "notification.done", _("Notification marked done")
    # Reads of personal data (``coordination.reads``): one row per request.
    DATA_READ = "data.read", _("Personal data read")
    IDENTIFIER_LOOKUP = "identifier.lookup", _("Identifier looked up")
    AUDIT_EXPORT = "audit.export", _("Audit trail exported")


#: Audited but not events of a case's timeline (nor its "new changes" poll): reads of
#: personal data, and a person marking their notifications about the case done. Declared
#: beside the codes, so an app adding such an action says so here, not in the case page.
OFF_TIMELINE = frozenset(
    {
        AuditAction.CASE_VIEW,
        AuditAction.TASK_VIEW,
        AuditAction.NOTIFICATION_DONE,
        AuditAction.DATA_READ,
        AuditAction.IDENTIFIER_LOOKUP,
        AuditAction.AUDIT_EXPORT,
    }
)

#: The actions that record a read of personal data (the audit trail's "who read whose data").
READ_ACTIONS = frozenset(
    {
        AuditAction.CASE_VIEW,
        AuditAction.TASK_VIEW,
        AuditAction.DATA_READ,
        AuditAction.IDENTIFIER_LOOKUP,
        AuditAction.AUDIT_EXPORT,
    }
)
