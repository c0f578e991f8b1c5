from django.contrib import admin

from .models import AuditRecord


@admin.register(AuditRecord)
class AuditRecordAdmin(admin.ModelAdmin):
    """The audit trail, read-only for everyone, superusers included."""

    list_display = ("at", "user_name", "agency_code", "action", "object_type", "object_repr", "case_id")
    list_filter = ("action", "object_type", "agency_code")
    search_fields = ("=user_name", "=case_id", "object_repr")
    date_hierarchy = "at"
    show_full_result_count = False

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
