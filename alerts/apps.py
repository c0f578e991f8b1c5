from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Deliveries to partners, notifications and watchers."""

    name = "alerts"
    verbose_name = _("Deliveries and notifications")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The cases app sets off pushes and notifications by signal, never by importing alerts.
        from cases import signals

        from . import receivers

        signals.task_approved.connect(receivers.dispatch_approved_task, sender=None, dispatch_uid="alerts.dispatch")
        signals.task_event.connect(receivers.tell_the_people_concerned, dispatch_uid="alerts.notify")
