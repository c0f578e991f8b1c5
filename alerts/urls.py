from django.urls import path

from . import views

urlpatterns = [
    path("notifications/", views.NotificationListView.as_view(), name="notifications"),
    path("notifications/badge/", views.NotificationBadgeView.as_view(), name="notification-badge"),
]
