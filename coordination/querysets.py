"""The shared base of every model's visibility rule (NetBox ``RestrictedQuerySet``)."""

from __future__ import annotations

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """A queryset that every model narrows with ``visible_to(user, action)``.

    Views, the API, filters, form choices and jobs acting for a user all call
    ``visible_to``: it is the only place a model's access rule is written. The
    opening is the same for every model and lives here: nobody who is not
    signed in (or is inactive) sees anything; a role whose policy grants the
    model's ``view_all`` (or ``change_all``) capability sees every row; anyone
    else gets the model's own narrowing, ``_restrict(user, action)``.

    The policy is ``user.policy`` (``agencies.roles``, set on the user model):
    this floor names capabilities, it imports no app.
    """

    ACTIONS = ("view", "change")
    #: The capability of ``user.policy`` that shows every row ("" for none).
    view_all = ""
    #: The capability of ``user.policy`` that lets every row be changed ("" for none).
    change_all = ""

    def visible_to(self, user, action: str = "view") -> RestrictedQuerySet:
        if not self._is_signed_in(user):
            return self.none()
        shortcut = {"view": self.view_all, "change": self.change_all}.get(action, "")
        if shortcut and getattr(user.policy, shortcut):
            return self.all()
        return self._restrict(user, action)

    def _restrict(self, user, action: str) -> RestrictedQuerySet:
        """The rows a signed-in ``user`` without the shortcut may reach for ``action``."""
        return self.none()

    @staticmethod
    def _is_signed_in(user) -> bool:
        return bool(user is not None and user.is_authenticated and user.is_active)
