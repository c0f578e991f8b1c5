from django.conf import settings
from django.urls import path
from rest_framework.routers import SimpleRouter

from .views import CaseViewSet, IdentifierLookupView, PingView, ProposalViewSet, ReferenceView, TaskViewSet

router = SimpleRouter()
router.register("cases", CaseViewSet, basename="case")
router.register("tasks", TaskViewSet, basename="task")
router.register("proposals", ProposalViewSet, basename="proposal")

urlpatterns = [
    path("reference/", ReferenceView.as_view(), name="reference"),
    path("identifiers/lookup/", IdentifierLookupView.as_view(), name="identifier-lookup"),
    *router.urls,
]
# A constant endpoint behind the same authentication: the benchmark's ceiling.
# Off unless API_PING is set, so the public schema does not carry it.
if getattr(settings, "API_PING", False):
    urlpatterns.append(path("_ping/", PingView.as_view(), name="ping"))
