"""Who may do what: predicates shared by DRF permission classes and HTML views (STYLE.md P1)."""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import AccessToken
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.models import Department
from apps.identity.constants import StaffRole
from apps.identity.models import ApiClient


def has_staff_role(user: Any, department: Department | int, *roles: str) -> bool:
    """Whether ``user`` holds an active membership with one of ``roles`` in ``department``."""
    if not getattr(user, "is_authenticated", False):
        return False
    department_id = department.pk if isinstance(department, Department) else department
    return user.memberships.filter(
        department_id=department_id, role__in=roles or StaffRole.values, is_active=True
    ).exists()


def can_administer_department(user: Any, department: Department | int) -> bool:
    return has_staff_role(user, department, StaffRole.DEPT_ADMIN)


def request_api_client(request: Request) -> ApiClient | None:
    """The department client behind an OAuth2 client-credentials token, if any."""
    token = request.auth
    # Client credentials only: a token a person granted to a system carries that person.
    if (
        not isinstance(token, AccessToken)
        or token.application_id is None
        or token.user_id is not None
    ):
        return None
    try:
        client = token.application.api_client
    except ApiClient.DoesNotExist:
        return None
    return client if client.is_active else None


def get_client_department(request: Request) -> Department:
    client = request_api_client(request)
    assert client is not None, "use DepartmentClientPermission on the view"
    return client.department


class DepartmentClientPermission(BasePermission):
    """A department system's OAuth2 client with the scope the view declares for the method.

    Views declare ``required_scopes = {"GET": "cases:read", "POST": "cases:write"}``. The token
    must carry the scope and the client must still be allowed it (revoking a scope on the client
    takes effect for tokens already issued).
    """

    message = "该接口需要部门客户端令牌及相应权限范围"

    def has_permission(self, request: Request, view: Any) -> bool:
        client = request_api_client(request)
        if client is None:
            return False
        required = getattr(view, "required_scopes", {}).get(request.method)
        if required is None:
            return False
        token = request.auth
        assert isinstance(token, AccessToken)
        return token.allow_scopes([required]) and required in client.scopes
