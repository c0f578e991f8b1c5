from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Cases, identifiers, transfers and tasks."""

    name = "cases"
    verbose_name = _("Cases and tasks")
    default_auto_field = "django.db.models.BigAutoField"
