from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReviewConfig(AppConfig):
    """The joint meeting's review (考核): its page, export, API, score weights and supervision items."""

    name = "review"
    verbose_name = _("Joint meeting's review")
    default_auto_field = "django.db.models.BigAutoField"
