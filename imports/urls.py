from django.urls import path

from . import views

urlpatterns = [
    path("imports/", views.ImportListView.as_view(), name="import-list"),
    path("imports/template.<str:fmt>", views.TemplateDownloadView.as_view(), name="import-template"),
    path("imports/<int:pk>/", views.ImportDetailView.as_view(), name="import-detail"),
    path("imports/<int:pk>/progress/", views.ImportProgressView.as_view(), name="import-progress"),
    path("imports/<int:pk>/<str:what>/", views.ImportActionView.as_view(), name="import-action"),
    path("imports/statement/<int:pk>/", views.StatementImportView.as_view(), name="statement-import"),
]
