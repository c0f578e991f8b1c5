"""Serializers of the cases API."""

from rest_framework import serializers

from ..choices import ResultStatus


class ResultSerializer(serializers.Serializer):
    """A partner's result (protocol: "Result"); per-type fields are checked by the action."""

    status = serializers.ChoiceField(choices=ResultStatus.choices)
    executed_at = serializers.DateTimeField(required=False, allow_null=True)
    reason = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=2000)
    result = serializers.JSONField(required=False, allow_null=True)
