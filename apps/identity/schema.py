"""The department clients' OAuth2 client-credentials scheme in the OpenAPI document.

Without it drf-spectacular drops the authenticator and the schema claims the department API
takes only a session cookie (issue 15 §2: the schema must not lie).
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from drf_spectacular.extensions import OpenApiAuthenticationExtension

from apps.identity.constants import ApiScope


class ClientCredentialsScheme(OpenApiAuthenticationExtension):
    target_class = "apps.identity.authentication.ClientCredentialsAuthentication"
    name = "clientCredentials"

    def get_security_definition(self, auto_schema: Any) -> dict[str, Any]:
        return {
            "type": "oauth2",
            "description": "部门业务系统的客户端凭证令牌（Authorization: Bearer …）；"
            "单点登录为个人签发的令牌不能调用这些接口（401）。",
            "flows": {
                "clientCredentials": {
                    "tokenUrl": reverse("oauth2_provider:token"),
                    "scopes": {scope.value: str(scope.label) for scope in ApiScope},
                }
            },
        }
