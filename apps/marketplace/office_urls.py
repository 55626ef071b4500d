from django.urls import path

from apps.marketplace import office_views

app_name = "marketplace_office"

urlpatterns = [
    path("", office_views.review_queue, name="queue"),
    path("agencies/<int:agency_id>/review/", office_views.agency_review, name="agency_review"),
    path(
        "objections/<int:objection_id>/handle/",
        office_views.objection_handle,
        name="objection_handle",
    ),
    path("sanctions/<int:sanction_id>/lift/", office_views.sanction_lift, name="sanction_lift"),
    path("projects/<int:project_id>/review/", office_views.project_review, name="project_review"),
]
