"""Who may maintain which service items (STYLE.md P1).

An actor is a staff user (department administrator, in the admin) or a department system's
``ApiClient`` (OAuth2 client credentials, catalog:write). Both are confined to their own
department's items.
"""

from __future__ import annotations

from typing import Any

from apps.core.models import Department
from apps.identity.constants import StaffRole
from apps.identity.models import ApiClient


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
