"""SSO and OAuth2 routes, mounted at the site root.

They keep django-oauth-toolkit's namespace (``oauth2_provider``) because DOT reverses its own
URL names. Discovery and the JWKS sit at the root (the issuer is the site itself, ARCHITECTURE.md
contract); the endpoints sit under ``/o/``. DOT's application-management, device-flow and
dynamic-registration views are deliberately not mounted: clients are registered by
administrators in the Django admin (docs/sso.md).
"""

from django.urls import path, re_path
from oauth2_provider import views as dot_views

from apps.identity import views_oidc

app_name = "oauth2_provider"

urlpatterns = [
    re_path(
        r"^\.well-known/openid-configuration/?$",
        views_oidc.SsoDiscoveryView.as_view(),
        name="oidc-connect-discovery-info",
    ),
    path(".well-known/jwks.json", dot_views.JwksInfoView.as_view(), name="jwks-info"),
    path("o/authorize/", views_oidc.SsoAuthorizationView.as_view(), name="authorize"),
    path("o/token/", dot_views.TokenView.as_view(), name="token"),
    path("o/revoke_token/", dot_views.RevokeTokenView.as_view(), name="revoke-token"),
    path("o/userinfo/", dot_views.UserInfoView.as_view(), name="user-info"),
]
