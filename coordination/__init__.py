"""The Django project: settings, URLs, the Celery app and shared base classes."""

from .celery import app as celery_app

__all__ = ("celery_app",)
