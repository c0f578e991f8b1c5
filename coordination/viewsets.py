"""The one place API scoping is enforced (NetBox ``BaseViewSet``).

Every API view derives from these: the queryset comes from the model's
``visible_to`` for the request's action, so an object outside the caller's
scope is simply not found (404, the same body as a missing one).
"""

from __future__ import annotations

from rest_framework import viewsets
from rest_framework.generics import GenericAPIView

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ScopedMixin(GenericAPIView):
    """``get_queryset`` narrowed by ``Model.objects.visible_to(user, action)``."""

    #: The unscoped base; subclasses add select_related/prefetch here.
    base_queryset = None
    #: Action used for writes; reads use "view".
    write_action = "change"

    def scope_action(self) -> str:
        return self.write_action if self.request.method in WRITE_METHODS else "view"

    def get_queryset(self):
        base = self.base_queryset if self.base_queryset is not None else self.queryset
        return base.visible_to(self.request.user, self.scope_action())


class BaseViewSet(ScopedMixin, viewsets.GenericViewSet):
    pass
