from .case import Case, CaseGroupObjectPermission, CaseUserObjectPermission, Victim
from .identifier import CaseIdentifier, Identifier, Transfer
from .legal import LegalDocument, LegalDocumentFormat
from .reference import Channel, District, FraudType, TaskTypeConfig
from .task import FollowUpProposal, Task

__all__ = [
    "Case",
    "CaseGroupObjectPermission",
    "CaseIdentifier",
    "CaseUserObjectPermission",
    "Channel",
    "District",
    "FollowUpProposal",
    "FraudType",
    "Identifier",
    "LegalDocument",
    "LegalDocumentFormat",
    "Task",
    "TaskTypeConfig",
    "Transfer",
    "Victim",
]
