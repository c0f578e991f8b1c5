from django.apps import AppConfig
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate
from django.utils.module_loading import autodiscover_modules
from django.utils.translation import gettext_lazy as _


class CoordinationConfig(AppConfig):
    """Shared base: the audit trail and the health endpoint."""

    name = "coordination"
    verbose_name = _("Platform")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Every app's ``coordination_hooks.py`` registers what it adds to lower floors' pages
        # (``coordination.hooks``); importing them here names no app.
        autodiscover_modules("coordination_hooks")

        from .db import install_safe_loaders
        from .logs import mask_every_handler

        # Logging is configured before apps are ready: Django's own handlers exist now.
        mask_every_handler()

        connection_created.connect(install_safe_loaders, dispatch_uid="coordination.safe_timestamp_loaders")

        from .dbroles import grant_app

        # After every migrate (as the owner): the platform's role gets its rights on every table.
        post_migrate.connect(grant_app, sender=self, dispatch_uid="coordination.grant_app")
