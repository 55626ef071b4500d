from django.urls import path

from apps.bundles import api

urlpatterns = [
    path("", api.BundleListApi.as_view(), name="bundles-list"),
    path("<slug:code>/", api.BundleDetailApi.as_view(), name="bundles-detail"),
]
