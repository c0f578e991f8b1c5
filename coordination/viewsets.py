"""The one place API scoping is enforced (NetBox ``BaseViewSet``).

Every API view derives from these: the queryset comes from the model's
``visible_to`` for the request's action, so an object outside the caller's
scope is simply not found (404, the same body as a missing one). An object the
caller can see but not change answers 403 on a write: hiding what they already
read would only confuse them.
"""

from __future__ import annotations

from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, viewsets
from rest_framework.generics import GenericAPIView

from .filters import StrictFilterBackend
from .pagination import CursorPage
from .throttling import WriteRateThrottle

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Actions that read although they are POSTed (``SearchMixin``): list scope, no write throttle.
READ_ACTIONS = frozenset({"search"})


class ScopedMixin(GenericAPIView):
    """``get_queryset`` narrowed by ``Model.objects.visible_to(user, action)``."""

    #: The unscoped base; subclasses add select_related/prefetch here.
    base_queryset = None
    #: Action used for writes; reads use "view".
    write_action = "change"

    def scope_action(self) -> str:
        if getattr(self, "action", None) in READ_ACTIONS:
            return "view"
        return self.write_action if self.request.method in WRITE_METHODS else "view"

    def unscoped_queryset(self):
        return self.base_queryset if self.base_queryset is not None else self.queryset

    def get_queryset(self):
        return self.unscoped_queryset().visible_to(self.request.user, self.scope_action())

    def get_object(self):
        try:
            return super().get_object()
        except Http404:
            if self.scope_action() != "view" and self._visible_for_view():
                raise exceptions.PermissionDenied() from None
            raise

    def _visible_for_view(self) -> bool:
        lookup = self.lookup_url_kwarg or self.lookup_field
        value = self.kwargs.get(lookup)
        try:
            return (
                self.unscoped_queryset()
                .visible_to(self.request.user, "view")
                .filter(**{self.lookup_field: value})
                .exists()
            )
        except (TypeError, ValueError):
            return False


class FilterBackend(StrictFilterBackend):
    """django-filter (strict: ``coordination.filters``) on ``list`` only, and only when a filter is named.

    A viewset's ``filterset_class`` describes its list: a detail route or an
    action (``/cases/{id}/file/``, ``/cases/{id}/transfers/``) neither takes the
    list's filters nor documents them, so actions need no ``filterset_class = None``.
    Building and validating the filter form costs a few milliseconds per request;
    an unfiltered inbox poll (the commonest call) does not need it.
    """

    def get_filterset_class(self, view, queryset=None):
        action = getattr(view, "action", None)
        # A search takes the filters in its body: the schema names no query parameter for them.
        if action not in ("list", "search") or (action == "search" and getattr(view, "swagger_fake_view", False)):
            return None
        return super().get_filterset_class(view, queryset)

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not any(name in request.query_params for name in filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)


class BaseViewSet(ScopedMixin, viewsets.GenericViewSet):
    """Scoped queryset, keyset pagination and write throttling for every API viewset."""

    pagination_class = CursorPage
    filter_backends = [FilterBackend]

    def get_throttles(self):
        return [*super().get_throttles(), WriteRateThrottle()]


class SearchMixin:
    """``POST <list>/search/``: the list's filters in a JSON body instead of the query string.

    An identifier in a query string (``?identifier=``, ``?q=``, ``?target=``) lands
    in every proxy's and server's access log and in browser history; the same
    filters POSTed as ``{"identifier": "6217..."}`` do not. The answer is the list's
    (same scope, filters, order and page); its ``next`` link carries only the
    cursor, and the client POSTs the same body to it. A body value may be a list
    for a filter that takes several (``{"status": ["dispatched", "accepted"]}``).
    """

    def search(self, request, *args, **kwargs):
        body = request.data
        if not isinstance(body, dict):
            raise exceptions.ValidationError({"non_field_errors": [_("Send the filters as a JSON object.")]})
        merged = request._request.GET.copy()
        for name, value in body.items():
            values = value if isinstance(value, list) else [value]
            if any(isinstance(v, dict | list) for v in values):
                raise exceptions.ValidationError({name: [_("Give a text, number or true/false value.")]})
            merged.setlist(name, ["true" if v is True else "false" if v is False else str(v) for v in values])
        # The filter backend and the paginator read ``request.query_params`` (this
        # dict); the page links are made from the real URL, which holds the cursor only.
        request._request.GET = merged
        return self.list(request, *args, **kwargs)
