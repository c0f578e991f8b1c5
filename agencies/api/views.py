"""API views of the agency directory."""

from rest_framework import mixins

from coordination.pagination import AgencyPage
from coordination.viewsets import BaseViewSet

from ..filtersets import AgencyFilterSet
from ..models import Agency
from .serializers import AgencySerializer


class AgencyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, BaseViewSet):
    """The agency directory: every signed-in caller reads it (codes for tasks and transfers)."""

    base_queryset = Agency.objects.filter(is_active=True)
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    pagination_class = AgencyPage
    lookup_field = "code"
    lookup_value_regex = "[A-Z0-9][A-Z0-9-]{0,31}"
