from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Cases, identifiers, transfers and tasks."""

    name = "cases"
    verbose_name = _("Cases and tasks")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from coordination.filtersets import AuditRecordFilterSet

        from .filtersets import case_id_for_reference

        # The audit trail's ``?case=`` takes a reference too; coordination cannot import cases.
        AuditRecordFilterSet.case_lookup = staticmethod(case_id_for_reference)
