"""Who may do what with warnings, read from the one role policy (``agencies.roles``)."""

from __future__ import annotations

from agencies import roles
from agencies.choices import Sector

#: Sectors whose liaisons send clues (protocol v1.1): those whose own risk systems find victims.
CLUE_SECTORS = frozenset({Sector.BANK, Sector.PAYMENT_INSTITUTION, Sector.TELECOM_OPERATOR, Sector.INTERNET_PLATFORM})


def can_send_clues(user) -> bool:
    """The centre, and liaisons (people or partner systems) of the clue sectors, with an agency."""
    if not roles.can(user, "sends_warning_clues") or user.agency_id is None:
        return False
    return roles.can(user, "changes_all_cases") or user.agency.sector in CLUE_SECTORS


def sees_routing(user) -> bool:
    """Centre roles (and auditors) see the task a clue became and the unit it went to."""
    return roles.can(user, "sees_all_cases")


def works_warnings(user) -> bool:
    """A police unit's people (public-security agencies): a station's inbox, a sub-bureau's district."""
    return (
        roles.can(user, "works_warnings")
        and user.agency_id is not None
        and user.agency.sector == Sector.PUBLIC_SECURITY
    )


def sees_warnings_page(user) -> bool:
    """The warnings pages (and their menu entry): the centre, police units, clue senders."""
    return sees_routing(user) or works_warnings(user) or can_send_clues(user)
