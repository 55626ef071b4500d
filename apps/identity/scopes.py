"""DOT scopes backend: a department client may only obtain the scopes it was granted."""

from typing import Any

from oauth2_provider.scopes import SettingsScopes


class DepartmentClientScopes(SettingsScopes):
    def get_available_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        scopes = super().get_available_scopes(application, request, *args, **kwargs)
        client = getattr(application, "api_client", None) if application is not None else None
        if client is None:
            return scopes
        return [scope for scope in scopes if scope in client.scopes]

    def get_default_scopes(
        self, application: Any = None, request: Any = None, *args: Any, **kwargs: Any
    ) -> list[str]:
        client = getattr(application, "api_client", None) if application is not None else None
        if client is not None:
            return sorted(client.scopes)
        return super().get_default_scopes(application, request, *args, **kwargs)
