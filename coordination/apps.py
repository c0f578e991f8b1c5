from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    """Shared base: the audit trail and the health endpoint."""

    name = "coordination"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"
