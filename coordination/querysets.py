"""The shared base of every model's visibility rule (NetBox ``RestrictedQuerySet``)."""

from __future__ import annotations

from django.db import models


class RestrictedQuerySet(models.QuerySet):
    """A queryset that every model narrows with ``visible_to(user, action)``.

    Views, the API, filters, form choices and jobs acting for a user all call
    ``visible_to``: it is the only place a model's access rule is written.
    """

    ACTIONS = ("view", "change")

    def visible_to(self, user, action: str = "view") -> RestrictedQuerySet:  # pragma: no cover
        raise NotImplementedError

    @staticmethod
    def _is_signed_in(user) -> bool:
        return bool(user is not None and user.is_authenticated and user.is_active)
