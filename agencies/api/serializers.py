"""Serializers of the agencies API (partner protocol: the agency directory)."""

from rest_framework import serializers

from ..models import Agency


class AgencySerializer(serializers.ModelSerializer):
    """``code``, ``name``, ``name_en``, ``sector``, ``is_member`` (fixed by the protocol)."""

    class Meta:
        model = Agency
        fields = ["code", "name", "name_en", "sector", "is_member"]
        read_only_fields = fields
