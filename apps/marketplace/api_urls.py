from django.urls import path

from apps.marketplace import api

urlpatterns = [
    path("projects/", api.ProjectListApi.as_view(), name="marketplace-projects"),
    path(
        "projects/<int:project_id>/registrations/",
        api.RegistrationListApi.as_view(),
        name="marketplace-registrations",
    ),
    path("agencies/", api.AgencyCreditListApi.as_view(), name="marketplace-agencies"),
    path(
        "agencies/<int:agency_id>/sanctions/",
        api.SanctionCreateApi.as_view(),
        name="marketplace-sanction-create",
    ),
    path(
        "sanctions/<int:sanction_id>/lift/",
        api.SanctionLiftApi.as_view(),
        name="marketplace-sanction-lift",
    ),
]
