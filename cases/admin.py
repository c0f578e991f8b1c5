"""Admin: reference data editable; cases and tasks read-only (they change through actions)."""

from django.contrib import admin

from agencies.admin import AuditedAdminMixin

from .models import (
    Case,
    Channel,
    District,
    FraudType,
    Identifier,
    LegalDocument,
    LegalDocumentFormat,
    Task,
    TaskTypeConfig,
    Transfer,
    Victim,
)


@admin.register(FraudType, Channel)
class ReferenceAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")
    search_fields = ("code", "name", "name_en")


@admin.register(District)
class DistrictAdmin(ReferenceAdmin):
    list_display = ("code", "name", "name_en", "kind", "police_agency", "sort_order", "is_active")
    list_filter = ("kind",)


@admin.register(TaskTypeConfig)
class TaskTypeConfigAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # Approval, documents and sectors are the type's declaration (cases.task_types), not data.
    list_display = ("code", "name", "name_en", "deadline_minutes")
    list_editable = ("deadline_minutes",)


@admin.register(LegalDocumentFormat)
class LegalDocumentFormatAdmin(AuditedAdminMixin, admin.ModelAdmin):
    # With no active format the built-in shape applies (cases.legal_documents.DEFAULT_PATTERN).
    list_display = ("name", "description", "pattern", "sort_order", "is_active")
    list_editable = ("sort_order", "is_active")


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class VictimInline(admin.TabularInline):
    model = Victim
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ("reference", "reported_at", "district", "fraud_type", "loss_amount", "amount_stopped", "status")
    list_filter = ("status", "district", "fraud_type", "channel")
    search_fields = ("=reference", "victims__name")
    date_hierarchy = "reported_at"
    show_full_result_count = False
    inlines = [VictimInline]


@admin.register(Task)
class TaskAdmin(ReadOnlyAdmin):
    list_display = ("id", "case", "type", "agency", "state", "deadline", "is_overdue", "needs_attention")
    list_filter = ("state", "type", "is_overdue", "needs_attention", "agency__sector")
    search_fields = ("=id", "=case__reference", "agency__code")
    list_select_related = ("case", "agency")
    show_full_result_count = False


@admin.register(Identifier)
class IdentifierAdmin(ReadOnlyAdmin):
    list_display = ("kind", "value", "bank", "case_count", "first_seen_at", "last_seen_at")
    list_filter = ("kind",)
    search_fields = ("=value",)
    show_full_result_count = False


@admin.register(Transfer)
class TransferAdmin(ReadOnlyAdmin):
    list_display = ("case", "from_identifier", "to_identifier", "amount", "at", "source")
    list_filter = ("source",)
    search_fields = ("=case__reference",)
    list_select_related = ("case", "from_identifier", "to_identifier")
    show_full_result_count = False


@admin.register(LegalDocument)
class LegalDocumentAdmin(ReadOnlyAdmin):
    # Registered as numbers enter (cases.actions.legal_documents); never edited.
    list_display = ("number", "issuer", "year", "serial", "case", "created_at")
    list_filter = ("year",)
    search_fields = ("=number", "issuer")
    list_select_related = ("case",)
