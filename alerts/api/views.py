"""API of deliveries (history, re-send) and of the caller's notification inbox.

Scoped through ``BaseViewSet``: deliveries by ``Delivery.objects.visible_to``
(whoever sees the task sees its pushes), notifications by
``Notification.objects.visible_to`` (one's own only).
"""

from __future__ import annotations

from django.db.models import Prefetch
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response

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


class _Page(CursorPagination):
    """Keyset pages in the protocol's shape ``{"next", "results"}``; no COUNT, no OFFSET."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200
    ordering = ("-created_at", "-id")

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {"next": {"type": "string", "nullable": True, "format": "uri"}, "results": schema},
        }


class DeliveryPage(_Page):
    # Index delivery_task_idx serves ?task=; history per task is short.
    ordering = ("-created_at", "-id")


class DeliveryViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """A task's push history (``?task=ID``) and a supervisor's re-send."""

    base_queryset = Delivery.objects.select_related("agency").prefetch_related(
        Prefetch("attempt_log", queryset=DeliveryAttempt.objects.order_by("at", "id"))
    )
    serializer_class = DeliverySerializer
    pagination_class = DeliveryPage
    # Re-send is checked by the action (403 for those who see the delivery but may not re-send).
    write_action = "view"

    def get_queryset(self):
        rows = super().get_queryset()
        task = self.request.query_params.get("task")
        if self.action == "list" and task is not None:
            if not task.isdigit():
                raise ValidationError({"task": ["A task id is a whole number."]})
            rows = rows.filter(task_id=int(task))
        return rows

    @extend_schema(parameters=[OpenApiParameter("task", OpenApiTypes.INT, description="Only this task's deliveries.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(request=None, responses={200: DeliverySerializer})
    @action(detail=True, methods=["post"])
    def resend(self, request, pk=None):
        """Re-send a failed or dead-lettered delivery with the same ``Idempotency-Key`` (supervisor)."""
        delivery = actions.resend_delivery(self.get_object(), acting_user=request.user)
        return Response(DeliverySerializer(self.get_queryset().get(pk=delivery.pk)).data)


class NotificationViewSet(mixins.ListModelMixin, BaseViewSet):
    """The caller's in-app inbox: list (``?unread=true``), unread count, mark read."""

    base_queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    pagination_class = _Page
    write_action = "view"  # everyone may mark their own notifications read

    def get_queryset(self):
        rows = super().get_queryset()
        if self.request.query_params.get("unread") in ("1", "true"):
            rows = rows.filter(read_at__isnull=True)
        return rows

    @extend_schema(parameters=[OpenApiParameter("unread", OpenApiTypes.BOOL, description="Only unread notifications.")])
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: UnreadCountSerializer})
    @action(detail=False, methods=["get"], url_path="unread-count")
    def unread_count(self, request):
        count = Notification.objects.visible_to(request.user).filter(read_at__isnull=True).count()
        return Response({"unread": count})

    @extend_schema(request=MarkReadSerializer, responses={200: MarkedSerializer})
    @action(detail=False, methods=["post"], url_path="mark-read")
    def mark_read(self, request):
        serializer = MarkReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        marked = actions.mark_notifications_read(request.user, ids=serializer.validated_data.get("ids"))
        return Response({"marked": marked})
