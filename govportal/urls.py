from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.core import views as core_views

api_v1 = [
    # Each app adds its API routes here.
    path("core/", include("apps.core.api_urls")),
    path("catalog/", include("apps.catalog.api_urls")),
    path("handoffs/", include("apps.handoffs.api_urls")),
    path("cases/", include("apps.cases.api_urls")),
    path("reviews/", include("apps.reviews.api_urls")),
]

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.identity.urls")),
    path("office/", core_views.office_home, name="office-home"),
    path("office/handoffs/", include("apps.handoffs.urls")),
    # SSO (OIDC discovery at /.well-known/openid-configuration) and the OAuth2 token endpoint
    # for department clients (client credentials): apps/identity/oidc_urls.py.
    path("", include("apps.identity.oidc_urls")),
    path("office/", include("apps.identity.office_urls")),
    path("office/", include("apps.cases.office_urls")),
    path("office/reviews/", include("apps.reviews.office_urls")),
    path("cases/", include("apps.cases.urls")),
    path("reviews/", include("apps.reviews.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("catalog/", include("apps.catalog.urls")),
    path("", include("apps.core.urls")),
]
