"""Who may do what in the 中介超市 (STYLE.md P1)."""

from __future__ import annotations

from typing import Any

from apps.identity.constants import AssuranceLevel, StaffRole
from apps.identity.models import Enterprise
from apps.identity.permissions import has_staff_role
from apps.identity.selectors import can_act_for

# Acting for an agency or as a project owner needs real-name level L3 (DOMAIN.md §6.2 2).
MIN_LEVEL = AssuranceLevel.L3


def has_level_three(user: Any) -> bool:
    person = getattr(user, "person", None) if getattr(user, "is_authenticated", False) else None
    return person is not None and person.assurance_level >= MIN_LEVEL


def can_act_for_enterprise(user: Any, enterprise: Enterprise) -> bool:
    """Legal representative, licence administrator or authorised agent, at L3 or above."""
    return has_level_three(user) and can_act_for(user, enterprise)


def is_operator(user: Any) -> bool:
    """The 运营机构: reviews agencies and projects."""
    return bool(getattr(user, "is_authenticated", False)) and user.has_perm(
        "marketplace.operate_marketplace"
    )


def can_supervise_service(user: Any, department_id: int) -> bool:
    """The 行业主管部门 that keeps the list entry (its administrators and supervisors)."""
    return has_staff_role(user, department_id, StaffRole.DEPT_ADMIN, StaffRole.SUPERVISOR)


def can_manage_project(user: Any, project: Any) -> bool:
    """The owner: the person who posted it, or someone who may act for the owner enterprise."""
    if not has_level_three(user):
        return False
    if project.owner_enterprise_id is not None:
        return can_act_for(user, project.owner_enterprise)
    return project.owner_user_id == user.pk
