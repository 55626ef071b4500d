from django.urls import path

from apps.licences import api

urlpatterns = [
    path("", api.LicenceIssueApi.as_view(), name="licences-issue"),
    path("verify/", api.LicenceVerifyApi.as_view(), name="licences-verify"),
    path("<str:identifier>/", api.LicenceDetailApi.as_view(), name="licences-detail"),
    path("<str:identifier>/change/", api.LicenceChangeApi.as_view(), name="licences-change"),
    path("<str:identifier>/status/", api.LicenceStatusApi.as_view(), name="licences-status"),
]
