from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from coordination import audit
from coordination.audit import snapshot

from .models import Agency, User


class AuditedAdminMixin:
    """Admin saves leave an audit row like every other change."""

    def save_model(self, request, obj, form, change):
        before = snapshot(form.instance.__class__.objects.get(pk=obj.pk)) if change else None
        super().save_model(request, obj, form, change)
        audit.record(
            user=request.user,
            action=f"{obj._meta.model_name}.admin_{'change' if change else 'add'}",
            obj=obj,
            before=before,
            after=snapshot(obj),
        )


@admin.register(Agency)
class AgencyAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ("code", "name", "name_en", "sector", "is_member", "parent", "has_endpoint", "is_active")
    list_filter = ("sector", "is_member", "is_active")
    search_fields = ("code", "name", "name_en")
    # The endpoint changes only through ``set_endpoint`` (command or the manager's page),
    # which applies the endpoint rule and rotates the secret.
    readonly_fields = ("endpoint_url", "secret_hint", "endpoint_old_secret_until", "endpoint_changed_at")
    exclude = ("endpoint_secret", "endpoint_old_secret")
    autocomplete_fields = ("parent",)

    @admin.display(boolean=True, description=_("endpoint"))
    def has_endpoint(self, obj):
        return obj.has_endpoint


@admin.register(User)
class UserAdmin(AuditedAdminMixin, DjangoUserAdmin):
    list_display = ("username", "agency", "role", "is_active", "is_superuser", "last_login")
    list_filter = ("role", "is_active", "is_superuser", "agency__sector")
    search_fields = ("username", "first_name", "last_name", "email", "agency__code")
    autocomplete_fields = ("agency",)
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        (_("Agency and role"), {"fields": ("agency", "role", "notify_in_app", "notify_by_email")}),
    )
    add_fieldsets = (
        *DjangoUserAdmin.add_fieldsets,
        (_("Agency and role"), {"fields": ("agency", "role")}),
    )
