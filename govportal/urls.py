from csp import constants as csp_constants
from csp.decorators import csp_update

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import (
    SpectacularAPIView,
    SpectacularRedocView,
    SpectacularSwaggerSplitView,
)

from apps.cases.views.office_home import office_home
from apps.core import views as core_views

api_v1 = [
    # Each app adds its API routes here.
    path("core/", include("apps.core.api_urls")),
    path("catalog/", include("apps.catalog.api_urls")),
    path("handoffs/", include("apps.handoffs.api_urls")),
    path("cases/", include("apps.cases.api_urls")),
    path("licences/", include("apps.licences.api_urls")),
    path("reviews/", include("apps.reviews.api_urls")),
    path("bundles/", include("apps.bundles.api_urls")),
    path("marketplace/", include("apps.marketplace.api_urls")),
]

# The API docs embed third-party UIs (served locally by drf-spectacular-sidecar). Swagger UI
# runs under the strict policy: the split view serves its start-up script as a file
# (``?script``) and templates/drf_spectacular/swagger_ui.html drops the inline <style>.
# Redoc builds its styles at run time (styled-components injects <style> elements) and parses
# the schema in a blob: worker, so its page alone allows those two.
api_docs = SpectacularSwaggerSplitView.as_view(url_name="api-schema")
api_redoc = csp_update(
    {"style-src": [csp_constants.UNSAFE_INLINE], "worker-src": [csp_constants.SELF, "blob:"]}
)(SpectacularRedocView.as_view(url_name="api-schema"))

urlpatterns = [
    path("healthz", core_views.healthz, name="healthz"),
    # Prometheus (issue 15 §6): configured addresses or METRICS_TOKEN only; docs/deploy.md.
    path("metrics", core_views.metrics, name="metrics"),
    path("i18n/setlang/", core_views.set_language, name="set_language"),
    path("admin/", admin.site.urls),
    path("accounts/", include("apps.identity.urls")),
    path("office/", office_home, name="office-home"),
    path("office/handoffs/", include("apps.handoffs.urls")),
    path("office/bundles/", include("apps.bundles.office_urls")),
    # SSO (OIDC discovery at /.well-known/openid-configuration) and the OAuth2 token endpoint
    # for department clients (client credentials): apps/identity/oidc_urls.py.
    path("", include("apps.identity.oidc_urls")),
    path("office/", include("apps.identity.office_urls")),
    path("office/", include("apps.cases.office_urls")),
    path("office/reviews/", include("apps.reviews.office_urls")),
    path("office/marketplace/", include("apps.marketplace.office_urls")),
    path("cases/", include("apps.cases.urls")),
    path("reviews/", include("apps.reviews.urls")),
    path("messages/", include("apps.notifications.urls")),
    path("bundles/", include("apps.bundles.urls")),
    path("marketplace/", include("apps.marketplace.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", api_docs, name="api-docs"),
    path("api/redoc/", api_redoc, name="api-redoc"),
    path("catalog/", include("apps.catalog.urls")),
    path("licences/", include("apps.licences.urls")),
    path("office/licences/", include("apps.licences.office_urls")),
    path("", include("apps.core.urls")),
]

# JSON in the API error format under /api/, the portal's page elsewhere (issue 15 §2).
handler404 = "apps.core.views.page_not_found"
