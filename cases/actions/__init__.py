"""Every change to cases, identifiers, transfers and tasks (Zulip's ``zerver/actions``).

Each action is atomic, writes its audit row in the same transaction and
registers side effects with ``transaction.on_commit`` or a signal
(``cases.signals``) the alerts app receives. Views, serializers, the admin,
commands and tests call these; nothing else saves a case or a task.

By subject: ``cases`` (intake, filing, closing, sharing), ``identifiers``
(identifiers and money-flow edges), ``corrections`` (corrections with a
reason, additions to a recorded case, links set by hand), ``tasks`` (a task through its states),
``results`` (a partner's result into the case), ``follow_ups`` (stop-payments
in one click), ``freezes`` (conversion into freezes, renewal, re-issue).
``from cases import actions; actions.create_case(...)`` reads them all from here.
"""

from .cases import (
    CASE_EDITABLE_FIELDS,
    IdentifierData,
    TransferData,
    VictimData,
    close_case,
    create_case,
    file_case,
    next_case_reference,
    share_case,
    unshare_case,
    update_case,
)
from .corrections import (
    VICTIM_EDITABLE_FIELDS,
    add_case_identifier,
    add_case_transfer,
    add_victim,
    correct_case,
    correct_transfer,
    correct_victim,
    link_cases,
    unlink_cases,
)
from .follow_ups import issue_follow_ups, issue_stop_payments
from .freezes import Conversion, convert_stop_payments, reissue_task, renew_task
from .identifiers import SUSPECT_ROLES, add_identifier, add_transfer
from .objections import record_objection, review_objection
from .results import result_digest, submit_result
from .tasks import (
    LIVE_STATES,
    WarningContact,
    accept_task,
    approve_if_allowed,
    approve_task,
    approve_tasks,
    cancel_task,
    clear_flag,
    create_task,
    deadline_minutes,
    expire_task,
    flag_task,
    mark_dispatched,
    mark_overdue,
    reject_task,
    required_reason,
    return_reason,
    task_type,
)

__all__ = [
    "CASE_EDITABLE_FIELDS",
    "LIVE_STATES",
    "SUSPECT_ROLES",
    "VICTIM_EDITABLE_FIELDS",
    "Conversion",
    "IdentifierData",
    "TransferData",
    "VictimData",
    "WarningContact",
    "accept_task",
    "add_case_identifier",
    "add_case_transfer",
    "add_identifier",
    "add_transfer",
    "add_victim",
    "approve_if_allowed",
    "approve_task",
    "approve_tasks",
    "cancel_task",
    "clear_flag",
    "close_case",
    "convert_stop_payments",
    "correct_case",
    "correct_transfer",
    "correct_victim",
    "create_case",
    "create_task",
    "deadline_minutes",
    "expire_task",
    "file_case",
    "flag_task",
    "issue_follow_ups",
    "issue_stop_payments",
    "link_cases",
    "mark_dispatched",
    "mark_overdue",
    "next_case_reference",
    "record_objection",
    "reissue_task",
    "reject_task",
    "renew_task",
    "required_reason",
    "result_digest",
    "return_reason",
    "review_objection",
    "share_case",
    "submit_result",
    "task_type",
    "unlink_cases",
    "unshare_case",
    "update_case",
]
