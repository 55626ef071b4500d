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
]
