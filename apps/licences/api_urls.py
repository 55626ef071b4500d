from django.urls import path

from apps.licences import api, api_copies, api_subscriptions

urlpatterns = [
    path("", api.LicenceIssueApi.as_view(), name="licences-issue"),
    path("verify/", api.LicenceVerifyApi.as_view(), name="licences-verify"),
    # Fixed paths before ``<identifier>/`` (an identifier never looks like these words).
    path(
        "subscription/",
        api_subscriptions.SubscriptionApi.as_view(),
        name="licences-subscription",
    ),
    path("copies/", api_copies.CopyListApi.as_view(), name="licences-copies"),
    path("copies/<int:copy_id>/", api_copies.CopyDetailApi.as_view(), name="licences-copy"),
    path(
        "copies/<int:copy_id>/file/",
        api_copies.CopyFileApi.as_view(),
        name="licences-copy-file",
    ),
    path("<str:identifier>/", api.LicenceDetailApi.as_view(), name="licences-detail"),
    path("<str:identifier>/change/", api.LicenceChangeApi.as_view(), name="licences-change"),
    path("<str:identifier>/status/", api.LicenceStatusApi.as_view(), name="licences-status"),
    path(
        "<str:identifier>/copies/",
        api_copies.CopyIssueApi.as_view(),
        name="licences-copy-issue",
    ),
]
