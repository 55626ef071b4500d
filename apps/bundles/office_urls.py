"""Back-office bundle screens, mounted at /office/bundles/ (namespace ``office-bundles``)."""

from django.urls import path

from apps.bundles import office_views

app_name = "office-bundles"

urlpatterns = [
    path("", office_views.bundle_queue, name="queue"),
    path("<int:application_id>/", office_views.bundle_screen, name="application"),
    path("<int:application_id>/accept/", office_views.bundle_accept, name="accept"),
    path("<int:application_id>/deliver/", office_views.bundle_deliver, name="deliver"),
]
