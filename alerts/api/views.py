"""API of deliveries (history, re-send) and of the caller's notification inbox.

Scoped through ``BaseViewSet``: deliveries by ``Delivery.objects.visible_to``
(whoever sees the task sees its pushes), notifications by
``Notification.objects.visible_to`` (one's own only).
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from coordination.api import errors
from coordination.filters import StrictBooleanFormField
from coordination.pagination import CursorPage
from coordination.viewsets import BaseViewSet

from .. import actions
from ..models import Delivery, DeliveryAttempt, Notification
from .serializers import (
    DeliverySerializer,
    MarkedSerializer,
    MarkReadSerializer,
    NotificationSerializer,
    UnreadCountSerializer,
)


class NewestFirstPage(CursorPage):
    """The API's keyset page, newest first.

    Deliveries: index delivery_task_idx serves ``?task=`` (a task's history is short).
    """

    ordering = ("-created_at", "-id")


class LatestFirstPage(CursorPage):
    """Notifications by latest event (a collapsed repeat comes back to the top); notification_latest_idx."""

    ordering = ("-last_at", "-id")


# A primary key: digits only (``str.isdigit`` also takes "²"), and small enough for a bigint.
TASK_ID = re.compile(r"[0-9]{1,18}")


@extend_schema_view(
    retrieve=extend_schema(
        description="One push of a task with every attempt; visible to whoever sees the task.",
        responses={200: DeliverySerializer, **errors(401, 404)},
    ),
)
class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """A task's push history (``?task=ID``) and a supervisor's re-send."""

    base_queryset = Delivery.objects.select_related("agency").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("at", "id"))
    )
    serializer_class = DeliverySerializer
    pagination_class = NewestFirstPage
    # Only a UUID routes: any other id is simply not found (404), like a missing delivery.
    lookup_value_regex = "[0-9a-fA-F-]{36}"
    # Re-send is checked by the action (403 for those who see the delivery but may not re-send).
    write_action = "view"

    def get_queryset(self):
        rows = super().get_queryset()
        task = self.request.query_params.get("task")
        if self.action == "list" and task is not None:
            if not TASK_ID.fullmatch(task):
                raise ValidationError({"task": [_("A task id is a whole number.")]})
            rows = rows.filter(task_id=int(task))
        return rows

    @extend_schema(
        description="Deliveries the caller may see, newest first; ``?task=ID`` for one task's push history.",
        parameters=[OpenApiParameter("task", OpenApiTypes.INT, description="Only this task's deliveries.")],
        responses={200: DeliverySerializer(many=True), **errors(400, 401)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: DeliverySerializer, **errors(401, 403, 404, 409)})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Re-send a failed or dead-lettered delivery with the same ``Idempotency-Key`` (supervisor)."""
        delivery = actions.resend_delivery(self.get_object(), acting_user=request.user)
        return Response(DeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data)


class NotificationViewSet(mixins.ListModelMixin, BaseViewSet):
    """The caller's in-app inbox: list (``?unread=true``), unread count, mark read."""

    base_queryset = Notification.objects.select_related("case", "task__agency")
    serializer_class = NotificationSerializer
    pagination_class = LatestFirstPage
    write_action = "view"  # everyone may mark their own notifications read

    def get_queryset(self):
        rows = super().get_queryset()
        # Strict like every filter: ``?unread=maybe`` is a 400, not "no filter".
        try:
            unread = StrictBooleanFormField(required=False).clean(self.request.query_params.get("unread"))
        except DjangoValidationError as exc:
            raise ValidationError({"unread": exc.messages}) from None
        if unread:
            rows = rows.filter(read_at__isnull=True)
        return rows

    @extend_schema(
        description="The caller's own notifications, latest event first; texts in the request's language.",
        parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread notifications.")],
        responses={200: NotificationSerializer(many=True), **errors(401)},
    )
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: UnreadCountSerializer, **errors(401)})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        """The header badge's number (``NotificationQuerySet.badge``): undone case groups plus undone loose items.

        The same function as the page's badge (docs/deliveries.md): a case with
        five undone notifications counts 1; marking read changes nothing, done does.
        """
        return Response({"unread": Notification.objects.visible_to(request.user).badge()})

    @extend_schema(request=MarkReadSerializer, responses={200: MarkedSerializer, **errors(400, 401)})
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        """Mark the caller's notifications read (those ``ids``, or all); others' are never touched."""
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = actions.mark_notifications_read(request.user, ids=serializer.validated_data.get("ids"))
        return Response({"marked": marked})
