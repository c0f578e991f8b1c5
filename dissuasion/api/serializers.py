"""The protocol's warning bodies (v1.1, "warning clues from partners"): names fixed."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from cases.api.serializers import _iso

from ..choices import Level, Outcome
from ..intake import MAX_BATCH
from ..models import Warning
from ..permissions import sees_routing


class ClueIdentifierSerializer(serializers.Serializer):
    kind = serializers.CharField()
    value = serializers.CharField()


class ClueSerializer(serializers.Serializer):
    """One clue (schema only: each clue is checked by ``dissuasion.intake.check_clue``)."""

    source_reference = serializers.CharField(max_length=64)
    phone = serializers.CharField(allow_null=True, required=False)
    name = serializers.CharField(allow_null=True, required=False)
    id_number = serializers.CharField(allow_null=True, required=False)
    district = serializers.CharField(help_text=_("A district code of /api/v1/reference/."))
    address = serializers.CharField(allow_null=True, required=False)
    level = serializers.ChoiceField(choices=Level.choices)
    reason = serializers.CharField(allow_null=True, required=False)
    identifier = ClueIdentifierSerializer(allow_null=True, required=False)
    amount = serializers.CharField(
        allow_null=True, required=False, help_text=_('Optional: the sum at risk, e.g. "52000.00" (ours, not v1.1).')
    )


class ClueBatchSerializer(serializers.Serializer):
    clues = serializers.ListField(child=serializers.JSONField(), max_length=MAX_BATCH, allow_empty=False)


CLUE_ENTRIES_SCHEMA = {
    "type": "array",
    "items": {
        "type": "object",
        "required": ["source_reference"],
        "properties": {
            "source_reference": {"type": "string", "nullable": True},
            "warning": {"type": "integer", "description": "The warning (a clue accepted)."},
            "created": {"type": "boolean", "description": "False: the same sender sent it before."},
            "errors": {
                "type": "object",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "description": "This clue's errors (nothing stored for it).",
            },
        },
    },
}


class WarningSerializer(serializers.Serializer):
    """``{"id", "source_reference", "level", "outcome", "created_at", "closed_at"}``; centre roles add routing."""

    id = serializers.IntegerField()
    source_reference = serializers.CharField()
    level = serializers.ChoiceField(choices=Level.choices)
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    created_at = serializers.DateTimeField()
    closed_at = serializers.DateTimeField(allow_null=True)
    task = serializers.IntegerField(required=False, allow_null=True, help_text=_("Centre roles only."))
    agency = serializers.CharField(required=False, allow_null=True, help_text=_("Centre roles only: the unit."))

    def to_representation(self, warning: Warning) -> dict:
        data = {
            "id": warning.pk,
            "source_reference": warning.source_reference,
            "level": warning.level,
            "outcome": warning.outcome,
            "created_at": _iso(warning.created_at),
            "closed_at": _iso(warning.closed_at),
        }
        if sees_routing(self.context["request"].user):
            data["task"] = warning.task_id
            data["agency"] = warning.unit.code
        return data


class HandOverSerializer(serializers.Serializer):
    station = serializers.CharField(help_text=_("The code of one of the sub-bureau's police stations."))
