"""Who may do what with handoffs in the office (STYLE.md P1: predicates shared by views and tests).

* Platform administrators (superusers) see and administer everything.
* Staff see the handoffs their departments sent or received.
* Dead letters are retried or re-routed by a department administrator of the sending or the
  receiving department: the sender owns the case, the receiver may know the right target.
* Staff of the receiving department sign for (签收) handoffs delivered to their office queue.
* A department's endpoint (delivery mode, URL, keys) is configured by its administrators.
"""

from __future__ import annotations

from typing import Any

from apps.core.models import Department
from apps.handoffs.constants import HandoffState
from apps.handoffs.models import Handoff
from apps.identity.constants import StaffRole


def is_platform_admin(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and getattr(user, "is_superuser", False))


def staff_department_ids(user: Any, *roles: str) -> list[int]:
    """Departments where ``user`` holds an active membership (with one of ``roles``)."""
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_handoff_memberships", None)
    if cached is None:
        cached = list(user.memberships.filter(is_active=True).values_list("department_id", "role"))
        # One query per request, however many predicates a page evaluates.
        user._handoff_memberships = cached
    return sorted({dept for dept, role in cached if not roles or role in roles})


def can_view_handoffs(user: Any) -> bool:
    return is_platform_admin(user) or bool(staff_department_ids(user))


def can_administer_handoff(user: Any, handoff: Handoff) -> bool:
    """Retry / re-route a dead letter."""
    if is_platform_admin(user):
        return True
    admin_of = staff_department_ids(user, StaffRole.DEPT_ADMIN)
    return handoff.source_department_id in admin_of or handoff.target_department_id in admin_of


def can_sign_for_handoff(user: Any, handoff: Handoff) -> bool:
    """签收 a handoff that landed in the receiving department's office queue."""
    return handoff.state == HandoffState.DELIVERED and (
        handoff.target_department_id in staff_department_ids(user)
    )


def can_configure_endpoint(user: Any, department: Department | int) -> bool:
    department_id = department.pk if isinstance(department, Department) else department
    return is_platform_admin(user) or department_id in staff_department_ids(
        user, StaffRole.DEPT_ADMIN
    )
