from __future__ import annotations

from django.urls import path

from . import views

urlpatterns = [
    path("notifications", views.NotificationListView.as_view(), name="notifications"),
    path(
        "notifications/<id:notification_id>/read",
        views.NotificationReadView.as_view(),
        name="notification-read",
    ),
    path(
        "notifications/read-all",
        views.NotificationReadAllView.as_view(),
        name="notifications-read-all",
    ),
    path(
        "notifications/preferences",
        views.PreferencesView.as_view(),
        name="notification-preferences",
    ),
    path("push/key", views.PushKeyView.as_view(), name="push-key"),
    path("push/subscriptions", views.PushSubscriptionsView.as_view(), name="push-subscriptions"),
]
