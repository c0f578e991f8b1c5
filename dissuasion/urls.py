from django.urls import path

from . import views

urlpatterns = [
    path("warnings/", views.WarningListView.as_view(), name="warning-list"),
    path("warnings/new/", views.WarningEntryView.as_view(), name="warning-new"),
    path("warnings/<int:pk>/", views.WarningDetailView.as_view(), name="warning-detail"),
]
