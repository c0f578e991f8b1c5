from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Deliveries to partners, notifications and watchers."""

    name = "alerts"
    verbose_name = _("Deliveries and notifications")
    default_auto_field = "django.db.models.BigAutoField"
