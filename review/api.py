"""``GET /api/v1/stats/``: the review's figures for a period (``review.figures.review_for``)."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from cases import review as figures
from coordination.api import errors

from .figures import review_for

MONEY = {"max_digits": 14, "decimal_places": 2}


class SupervisionCountsSerializer(serializers.Serializer):
    items = serializers.IntegerField()
    open = serializers.IntegerField()
    overdue = serializers.IntegerField()
    closed_on_time = serializers.IntegerField()


class TrendSerializer(serializers.Serializer):
    received = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True)
    completion_rate = serializers.FloatField(allow_null=True)
    acceptance_median = serializers.FloatField(allow_null=True)
    result_median = serializers.FloatField(allow_null=True)
    score = serializers.FloatField(allow_null=True)


class UnitSerializer(serializers.Serializer):
    agency_id = serializers.IntegerField()
    code = serializers.CharField()
    name = serializers.CharField()
    name_en = serializers.CharField()
    received = serializers.IntegerField(help_text="Tasks that reached the unit in the period (docs/review.md).")
    owed = serializers.IntegerField(help_text="Received less cancelled by the centre.")
    accepted_on_time = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    rejected = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    overdue = serializers.IntegerField()
    on_time_rate = serializers.FloatField(allow_null=True, help_text="Per cent of owed; null only when none owed.")
    completion_rate = serializers.FloatField(allow_null=True, help_text="Per cent of owed; null only when none owed.")
    acceptance_median = serializers.FloatField(allow_null=True, help_text="Seconds from receipt to acceptance.")
    acceptance_p90 = serializers.FloatField(allow_null=True)
    result_median = serializers.FloatField(allow_null=True, help_text="Seconds from receipt to the result.")
    result_p90 = serializers.FloatField(allow_null=True)
    stopped = serializers.DecimalField(**MONEY)
    frozen = serializers.DecimalField(**MONEY)
    returned = serializers.DecimalField(**MONEY)
    warnings_reached = serializers.IntegerField()
    supervision = SupervisionCountsSerializer()
    score = serializers.FloatField(allow_null=True)
    previous = TrendSerializer(allow_null=True, help_text="The same figures over the previous period of equal length.")


class SpreadSerializer(serializers.Serializer):
    units = serializers.IntegerField()
    min = serializers.FloatField()
    p25 = serializers.FloatField()
    median = serializers.FloatField()
    p75 = serializers.FloatField()
    max = serializers.FloatField()


class OthersSerializer(serializers.Serializer):
    units = serializers.IntegerField(help_text="How many other units had tasks in the period.")
    received = SpreadSerializer(allow_null=True)
    on_time_rate = SpreadSerializer(allow_null=True)
    completion_rate = SpreadSerializer(allow_null=True)
    acceptance_median = SpreadSerializer(allow_null=True)
    result_median = SpreadSerializer(allow_null=True)
    score = SpreadSerializer(allow_null=True)


class BucketSerializer(serializers.Serializer):
    minutes = serializers.CharField()
    cases = serializers.IntegerField()


class GoldenHourSerializer(serializers.Serializer):
    cases = serializers.IntegerField(help_text="Cases reported in the period.")
    count = serializers.IntegerField(help_text="Of them, cases where money was stopped.")
    without = serializers.IntegerField()
    median = serializers.FloatField(allow_null=True, help_text="Seconds from report to the first money stopped.")
    p90 = serializers.FloatField(allow_null=True)
    target_minutes = serializers.IntegerField()
    within_target = serializers.IntegerField()
    within_target_rate = serializers.FloatField(allow_null=True)
    histogram = BucketSerializer(many=True)


class PeriodSerializer(serializers.Serializer):
    """``from`` (a Python keyword, hence ``get_fields``) and ``to``: ``[from, to)``."""

    def get_fields(self):
        return {"from": serializers.DateTimeField(), "to": serializers.DateTimeField()}


class WeightsSerializer(serializers.Serializer):
    on_time = serializers.IntegerField()
    completion = serializers.IntegerField()
    response = serializers.IntegerField()
    response_target_minutes = serializers.IntegerField()


class StatsSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=["all", "own"])
    period = PeriodSerializer()
    previous_period = PeriodSerializer()
    weights = WeightsSerializer()
    units = UnitSerializer(many=True)
    others = OthersSerializer(allow_null=True, help_text="A manager's view: the other units, no unit named.")
    golden_hour = GoldenHourSerializer(allow_null=True)


class StatsView(APIView):
    """The joint meeting's review for a period: the same figures as the review page and the dashboard."""

    @extend_schema(
        description=(
            "Per member unit: tasks received, accepted on time, completed, rejected, cancelled, overdue; "
            "on-time and completion rates; median and p90 seconds from receipt to acceptance and to result; "
            "amounts stopped, frozen and returned, each yuan once; warnings reached; supervision items; the "
            "score; and the previous period of equal length. The golden hour over the cases reported. "
            "Centre roles and auditors see every unit; an agency's manager its own unit and the others "
            "as an anonymised distribution; anyone else 403. Definitions: docs/review.md."
        ),
        parameters=[
            OpenApiParameter(
                "from", str, description="Start: a local date (YYYY-MM-DD) or an ISO 8601 instant with a zone."
            ),
            OpenApiParameter("to", str, description="End: a local date (included) or an instant. Default: now."),
        ],
        responses={200: StatsSerializer, **errors(400, 401, 403)},
    )
    def get(self, request):
        period = figures.parse_period(request.query_params)
        return Response(StatsSerializer(review_for(request.user, period)).data)
