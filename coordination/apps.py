from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    """Shared base: the audit trail and the health endpoint."""

    name = "coordination"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .db import install_safe_loaders

        connection_created.connect(install_safe_loaders, dispatch_uid="coordination.safe_timestamp_loaders")
