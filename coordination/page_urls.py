"""All page routes, one include per app."""

from django.urls import include, path

urlpatterns = [
    path("", include("cases.urls")),
    path("", include("agencies.urls")),
    path("", include("alerts.urls")),
]
