"""Serializers of deliveries (a task's push history) and notifications."""

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from agencies import roles
from coordination.masking import mask_free_text

from ..models import Delivery, DeliveryAttempt, Notification


class DeliveryAttemptSerializer(serializers.ModelSerializer):
    """One attempt; ``error`` is the class of failure only (``timeout``, ``refused``, ``tls``,
    ``network``, ``blocked_address``, ``http_3xx``/``http_4xx``/``http_5xx``), never an address or a body."""

    class Meta:
        model = DeliveryAttempt
        fields = ["at", "status_code", "error", "duration_ms"]


class DeliverySerializer(serializers.ModelSerializer):
    """One push of a task with every attempt; ``id`` is the ``Idempotency-Key``.

    ``last_error`` is the class of the last failure (as an attempt's ``error``);
    ``partner_reason``, what the partner's refusal said, is given to centre roles
    only (empty for everyone else).
    """

    agency = serializers.SlugRelatedField(slug_field="code", read_only=True)
    attempt_log = DeliveryAttemptSerializer(many=True, read_only=True)
    partner_reason = serializers.SerializerMethodField()

    def get_partner_reason(self, delivery) -> str:
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # The centre's people (who work failed pushes); the agency is told the class only.
        return delivery.partner_reason if user is not None and roles.can(user, "changes_all_cases") else ""

    class Meta:
        model = Delivery
        fields = [
            "id",
            "task",
            "agency",
            "state",
            "attempts",
            "created_at",
            "next_attempt_at",
            "give_up_at",
            "delivered_at",
            "last_status",
            "last_error",
            "partner_reason",
            "attempt_log",
        ]
        read_only_fields = fields


class NotificationSerializer(serializers.ModelSerializer):
    """One notification; ``title`` and ``body`` are drawn in the request's language from its kind.

    ``count`` is how many events of the same kind for the same task the row stands
    for, ``last_at`` the latest of them.
    """

    title = serializers.CharField(source="display_title", read_only=True)
    body = serializers.CharField(source="display_body", read_only=True)

    class Meta:
        model = Notification
        fields = [
            "id",
            "kind",
            "title",
            "body",
            "url",
            "task",
            "case",
            "count",
            "created_at",
            "last_at",
            "read_at",
            "done",
            "done_at",
        ]
        read_only_fields = fields

    def to_representation(self, note):
        data = super().to_representation(note)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        # Free text (a bank's reason) may carry an account: masked by the one rule for the reader.
        data["title"], data["body"] = mask_free_text(user, data["title"]), mask_free_text(user, data["body"])
        return data


class MarkReadSerializer(serializers.Serializer):
    """Without ``ids``, every unread notification of the caller is marked read."""

    # Bounded to a bigint: a larger number is a 400, not a database error.
    ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1), required=False, max_length=1000
    )


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField(
        help_text=_(
            "The header badge: case groups with an undone notification plus undone notifications about no case. "
            "Marking read leaves it; marking done lowers it."
        )
    )


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
