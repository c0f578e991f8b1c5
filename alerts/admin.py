from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from coordination.exceptions import ActionNotAllowed, Conflict

from .actions import resend_delivery
from .models import Delivery, DeliveryAttempt, Notification


class DeliveryAttemptInline(admin.TabularInline):
    model = DeliveryAttempt
    extra = 0
    can_delete = False
    readonly_fields = ("at", "status_code", "error", "duration_ms")

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Delivery)
class DeliveryAdmin(admin.ModelAdmin):
    list_display = ("id", "task", "agency", "state", "attempts", "next_attempt_at", "delivered_at", "last_status")
    list_filter = ("state", "agency")
    search_fields = ("=id", "=task__id")
    inlines = [DeliveryAttemptInline]
    show_full_result_count = False
    actions = ["resend"]

    @admin.action(description=_("Re-send (same Idempotency-Key)"))
    def resend(self, request, queryset):
        """Through the action: a supervisor only, failed or dead-lettered only, audited."""
        done = 0
        for delivery in Delivery.objects.visible_to(request.user, "change").filter(pk__in=queryset.values("pk")):
            try:
                resend_delivery(delivery, acting_user=request.user)
                done += 1
            except (ActionNotAllowed, Conflict) as exc:
                self.message_user(request, f"{delivery.pk}: {exc}", messages.WARNING)
        self.message_user(request, _("%(n)d deliveries re-sent.") % {"n": done})

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("created_at", "user", "kind", "title", "read_at")
    list_filter = ("kind",)
    search_fields = ("=user__username", "title")
    show_full_result_count = False
