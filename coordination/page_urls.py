"""All page routes: the platform's own (the audit trail), then one include per app."""

from django.urls import include, path

from .views import AuditView

urlpatterns = [
    path("", include("cases.urls")),
    path("", include("agencies.urls")),
    path("", include("alerts.urls")),
    path("", include("review.urls")),
    path("", include("imports.urls")),
    path("", include("dissuasion.urls")),
    path("audit/", AuditView.as_view(), name="audit"),
]
