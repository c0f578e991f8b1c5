"""All API routes, one include per app (namespace ``api``)."""

from django.urls import include, path

urlpatterns = [
    path("", include("agencies.api.urls")),
    path("", include("cases.api.urls")),
    path("", include("alerts.api.urls")),
    path("", include("review.api_urls")),
    path("", include("dissuasion.api.urls")),
]
