from django.urls import path

from apps.bundles import api

urlpatterns = [
    path("", api.BundleListApi.as_view(), name="bundles-list"),
    path("cases/<int:case_id>/graph/", api.BundleCaseGraphApi.as_view(), name="bundles-case-graph"),
    path("<slug:code>/", api.BundleDetailApi.as_view(), name="bundles-detail"),
]
