"""Domain exceptions that views and the API translate into answers."""

from django.utils.translation import gettext as _


class InvalidTransition(Exception):
    """A task was asked to move to a state the state table does not allow (API: 409)."""

    def __init__(self, current: str, requested: str):
        self.current = current
        self.requested = requested
        super().__init__(
            _("A task in state %(current)s cannot become %(requested)s.")
            % {
                "current": current,
                "requested": requested,
            }
        )


class ActionNotAllowed(Exception):
    """The acting user's role may not perform this action on a visible object (API: 403)."""


class Conflict(Exception):
    """The request conflicts with what is recorded, e.g. a different second result (API: 409)."""
