from django.urls import path

from apps.marketplace import department_views, office_views

app_name = "marketplace_office"

urlpatterns = [
    path("department/", department_views.department_home, name="department"),
    path("department/services/", department_views.service_save, name="department_service"),
    path(
        "department/contracts/<int:contract_id>/evaluate/",
        department_views.contract_evaluate,
        name="department_evaluate",
    ),
    path(
        "department/agencies/<int:agency_id>/sanction/",
        department_views.agency_sanction,
        name="department_sanction",
    ),
    path(
        "department/sanctions/<int:sanction_id>/lift/",
        department_views.sanction_lift,
        name="department_lift",
    ),
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
