from django.urls import path

from apps.core import api

urlpatterns = [
    path("regions/", api.RegionListApi.as_view(), name="core-regions"),
    path("departments/", api.DepartmentListApi.as_view(), name="core-departments"),
    path("calendar/working-days/", api.WorkingDaysApi.as_view(), name="core-working-days"),
]
