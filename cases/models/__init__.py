from .case import Case, CaseGroupObjectPermission, CaseLink, CaseUserObjectPermission, Victim
from .fund_return import ReturnAllocation, ReturnObjection
from .identifier import CaseIdentifier, Identifier, Transfer
from .legal import LegalDocument, LegalDocumentFormat
from .reference import Channel, District, FraudType, TaskTypeConfig
from .task import FollowUpProposal, Task

__all__ = [
    "Case",
    "CaseGroupObjectPermission",
    "CaseIdentifier",
    "CaseLink",
    "CaseUserObjectPermission",
    "Channel",
    "District",
    "FollowUpProposal",
    "FraudType",
    "Identifier",
    "LegalDocument",
    "LegalDocumentFormat",
    "ReturnAllocation",
    "ReturnObjection",
    "Task",
    "TaskTypeConfig",
    "Transfer",
    "Victim",
]
