"""Who may maintain which service items (STYLE.md P1).

An actor is a staff user (department administrator, in the admin) or a department system's
``ApiClient`` (OAuth2 client credentials, catalog:write). Both are confined to their own
department's items.
"""

from __future__ import annotations

from typing import Any

from oauth2_provider.models import AccessToken
from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from apps.core.models import Department
from apps.identity.constants import StaffRole
from apps.identity.models import ApiClient
from apps.identity.permissions import DepartmentClientPermission, request_api_client


class SystemActor:
    """The platform itself, e.g. ``loaddemo`` loading base data; recorded as "system"."""

    pk = None
    is_authenticated = False

    def __repr__(self) -> str:
        return "SYSTEM"


SYSTEM = SystemActor()


def managed_department_ids(actor: Any) -> set[int] | None:
    """Departments whose items ``actor`` may edit; ``None`` means every department."""
    if actor is SYSTEM:
        return None
    if isinstance(actor, ApiClient):
        return {actor.department_id} if actor.is_active else set()
    if not getattr(actor, "is_authenticated", False):
        return set()
    if actor.is_superuser:
        return None
    return set(
        actor.memberships.filter(role=StaffRole.DEPT_ADMIN, is_active=True).values_list(
            "department_id", flat=True
        )
    )


def can_manage_items_of(actor: Any, department: Department | int) -> bool:
    department_id = department.pk if isinstance(department, Department) else department
    allowed = managed_department_ids(actor)
    return allowed is None or department_id in allowed


def can_manage_item(actor: Any, item: Any) -> bool:
    return can_manage_items_of(actor, item.department_id)


def request_catalog_actor(request: Request) -> Any:
    """The actor behind an API request: the department client, else the signed-in user."""
    client = request_api_client(request)
    return client if client is not None else request.user


class CatalogManagerPermission(BasePermission):
    """Department API of the catalogue (issue 4, Deliver 5).

    Two kinds of caller: a department system's OAuth2 client (client credentials) holding the
    scope the view declares for the method (``required_scopes``), or a department
    administrator signed in to the portal (session). Any other bearer token (e.g. an OIDC
    token of a relying party acting for a person) is refused, whoever the person is. Which
    *items* the caller may touch is decided per object by the services and selectors.
    """

    message = "该接口需要部门客户端令牌（catalog 权限范围）或部门管理员身份"

    def has_permission(self, request: Request, view: Any) -> bool:
        if request_api_client(request) is not None:
            return DepartmentClientPermission().has_permission(request, view)
        if isinstance(request.auth, AccessToken):
            return False
        user = request.user
        if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
            return False
        return managed_department_ids(user) != set()
