"""DOT scopes backend: a client may only obtain the scopes it was granted.

- a department API client (``ApiClient``, client credentials): its ``allowed_scopes``;
- a relying party (``RelyingParty``, SSO): its ``allowed_scopes``, OIDC scopes only;
- an inactive client, or an application registered as neither: nothing.

Asking for more than that makes the authorization or token request fail with
``invalid_scope`` (tests/identity/test_oidc.py).
"""

from typing import Any

from oauth2_provider.scopes import SettingsScopes

from apps.identity.constants import ApiScope, OidcScope


def granted_scopes(application: Any) -> set[str]:
    """The scopes ``application`` may obtain; empty when it is not an active registered client."""
    client = getattr(application, "api_client", None)
    if client is not None:
        return client.scopes & set(ApiScope.values) if client.is_active else set()
    relying_party = getattr(application, "relying_party", None)
    if relying_party is not None:
        return relying_party.scopes & set(OidcScope.values) if relying_party.is_active else set()
    return set()


class DepartmentClientScopes(SettingsScopes):
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        scopes = super().get_available_scopes(application, request, *args, **kwargs)
        if application is None:  # discovery: everything the server knows
            return scopes
        allowed = granted_scopes(application)
        return [scope for scope in scopes if scope in allowed]

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        if application is None:
            return super().get_default_scopes(application, request, *args, **kwargs)
        if getattr(application, "api_client", None) is not None:
            return sorted(granted_scopes(application))
        allowed = granted_scopes(application)
        return [s for s in super().get_default_scopes(application, request) if s in allowed]
