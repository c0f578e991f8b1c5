from django.urls import path

from .api import StatsView

urlpatterns = [path("stats/", StatsView.as_view(), name="stats")]
