from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/badge/", views.NotificationBadgeView.as_view(), name="notification-badge"),
    path("notifications/<int:pk>/done/", views.NotificationDoneView.as_view(), name="notification-done"),
    path(
        "notifications/groups/<int:gid>/done/",
        views.NotificationGroupDoneView.as_view(),
        name="notification-group-done",
    ),
]
