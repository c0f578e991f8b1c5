"""Root URLs: pages, the API under /api/v1/, the schema, admin and health."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from .health import health

urlpatterns = [
    path("health/", health, name="health"),
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/v1/", include(("coordination.api_urls", "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="api-docs"),
    path("accounts/", include("django.contrib.auth.urls")),
    path("", include("coordination.page_urls")),
]

# Friendly error pages in both languages (templates/403.html, 404.html, 500.html);
# under /api/ every one answers JSON (partners never get an HTML page).
handler400 = "coordination.api.bad_request"
handler403 = "coordination.api.permission_denied"
handler404 = "coordination.api.not_found"
handler500 = "coordination.api.server_error"
