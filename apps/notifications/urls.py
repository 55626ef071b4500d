"""The message centre, mounted at /messages/ (namespace ``notifications``)."""

from django.urls import path

from apps.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.message_list, name="list"),
    path("<int:notification_id>/", views.message_detail, name="detail"),
    path("read-all/", views.message_read_all, name="read-all"),
    path("preferences/", views.message_preferences, name="preferences"),
]
