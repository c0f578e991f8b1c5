"""API views of cases and tasks."""

from drf_spectacular.utils import extend_schema
from rest_framework.decorators import action
from rest_framework.response import Response

from coordination.viewsets import BaseViewSet

from .. import actions
from ..models import Task
from .serializers import ResultSerializer


class TaskViewSet(BaseViewSet):
    base_queryset = Task.objects.select_related("case", "agency", "target")

    @extend_schema(request=ResultSerializer, responses={200: None})
    @action(detail=True, methods=["post"])
    def result(self, request, pk=None):
        task = self.get_object()
        serializer = ResultSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        task, changed = actions.submit_result(
            task,
            acting_user=request.user,
            status=data["status"],
            result=data.get("result"),
            executed_at=data.get("executed_at"),
            reason=data.get("reason"),
        )
        return Response({"id": task.pk, "state": task.state, "changed": changed})
