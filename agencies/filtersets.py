"""Filters of the agency directory; each uses an index (sector, is_member)."""

import django_filters

from coordination.filters import BooleanFilter

from .choices import Sector
from .models import Agency


class AgencyFilterSet(django_filters.FilterSet):
    sector = django_filters.ChoiceFilter(choices=Sector.choices)
    is_member = BooleanFilter()

    class Meta:
        model = Agency
        fields = ["sector", "is_member"]
