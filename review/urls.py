from django.urls import path

from . import views

urlpatterns = [
    path("review/", views.ReviewView.as_view(), name="review"),
    path("review/export.xlsx", views.ReviewExportView.as_view(), name="review-export"),
    path("review/tasks/", views.ReviewTasksView.as_view(), name="review-tasks"),
    path("review/weights/", views.WeightsView.as_view(), name="review-weights"),
    path("review/supervision/", views.SupervisionListView.as_view(), name="supervision-list"),
    path("review/supervision/<int:pk>/", views.SupervisionDetailView.as_view(), name="supervision-detail"),
]
