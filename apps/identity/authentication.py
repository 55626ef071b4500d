"""DRF authentication for department systems (docs/sso.md).

Only client-credentials tokens authenticate API calls. A token issued to a relying party on a
person's behalf (SSO, authorization code) proves the sign-in to that system and is good for
``/o/userinfo/``; it must never let the system act as that person on the API.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.contrib.rest_framework import OAuth2Authentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request


class ClientCredentialsAuthentication(OAuth2Authentication):
    def authenticate(self, request: Request) -> tuple[Any, Any] | None:
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        if user is not None or getattr(token, "user_id", None) is not None:
            raise AuthenticationFailed("单点登录令牌不能调用部门接口，请使用客户端凭证令牌")
        return user, token
