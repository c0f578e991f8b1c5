"""``/api/v1/warnings/``: partners' clues in, their outcomes out (protocol v1.1)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, mixins, status
from rest_framework.decorators import action
from rest_framework.response import Response

from agencies.models import Agency
from coordination.api import errors
from coordination.viewsets import BaseViewSet

from .. import actions, intake
from ..models import Warning
from ..permissions import can_send_clues
from . import serializers as s


class WarningViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """Warning clues: a sender its own (newest first), a police unit those it works, the centre all."""

    base_queryset = Warning.objects.select_related("unit").only(
        "id", "source_reference", "level", "outcome", "created_at", "closed_at", "task_id", "unit__code"
    )
    serializer_class = s.WarningSerializer

    @extend_schema(
        request=s.ClueBatchSerializer,
        # A plain list in the clues' order, not a page (a raw schema: spectacular would page a serializer).
        responses={201: s.CLUE_ENTRIES_SCHEMA, **errors(400, 401, 403)},
        description=_(
            "A batch of up to 1,000 clues; one answer per clue, in order: the warning and whether it was new "
            "(false: the same sender sent this source_reference before), or that clue's errors."
        ),
    )
    def create(self, request):
        if not can_send_clues(request.user):
            raise exceptions.PermissionDenied()
        body = s.ClueBatchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        entries = intake.take_clues(request.user.agency, request.user, body.validated_data["clues"])
        return Response([e.as_dict() for e in entries], status=status.HTTP_201_CREATED)

    @extend_schema(
        request=s.HandOverSerializer, responses={200: s.WarningSerializer, **errors(400, 401, 403, 404, 409)}
    )
    @action(detail=True, methods=["post"], url_path="hand-over")
    def hand_over(self, request, pk=None):
        """The sub-bureau gives the warning to one of its police stations."""
        warning = self.get_object()
        body = s.HandOverSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        station = Agency.objects.filter(code=body.validated_data["station"]).first()
        if station is None:
            raise exceptions.ValidationError({"station": [_("Choose one of this sub-bureau's police stations.")]})
        warning = actions.hand_over(warning, station=station, acting_user=request.user)
        return Response(s.WarningSerializer(self.base_queryset.get(pk=warning.pk), context={"request": request}).data)
