from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ImportsConfig(AppConfig):
    """Historical records in: past cases and bank statements (issue 15, docs/imports.md)."""

    name = "imports"
    verbose_name = _("Historical records")
    default_auto_field = "django.db.models.BigAutoField"
