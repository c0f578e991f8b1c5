from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AgenciesConfig(AppConfig):
    """Organisations, people and roles."""

    name = "agencies"
    verbose_name = _("Agencies and people")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # The lockout's audit receiver (axes' user_locked_out signal).
        from . import lockout  # noqa: F401
