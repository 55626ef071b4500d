"""Who may rate, answer and decide (STYLE.md P1). Services re-check these."""

from __future__ import annotations

from typing import Any

from apps.cases.selectors import is_applicant, region_prefix
from apps.identity.constants import StaffRole
from apps.reviews.models import RectificationTicket, ServiceAuthority, ServiceRecord

# Department staff who work on their department's tickets.
TICKET_ROLES = (StaffRole.CLERK, StaffRole.REVIEWER, StaffRole.DEPT_ADMIN)
# Who may file an appeal for the department (a formal act of the department).
APPEAL_ROLES = (StaffRole.DEPT_ADMIN,)
# Within a 政务服务管理机构: who decides appeals and reads every department's figures.
AUTHORITY_ROLES = (StaffRole.SUPERVISOR, StaffRole.DEPT_ADMIN)


def _active_memberships(user: Any) -> list[Any]:
    if not getattr(user, "is_authenticated", False):
        return []
    cached = getattr(user, "_reviews_memberships", None)
    if cached is None:
        cached = list(user.memberships.filter(is_active=True).select_related("department__region"))
        user._reviews_memberships = cached
    return cached


def department_roles(user: Any, department_id: int) -> set[str]:
    return {m.role for m in _active_memberships(user) if m.department_id == department_id}


def is_staff_of(user: Any, department_id: int) -> bool:
    return bool(department_roles(user, department_id))


def is_own_service(user: Any, service: ServiceRecord) -> bool:
    """Staff never rate their own service: the staff member who served, or anyone working in
    the department that handled it (51号: staff must not interfere with ratings)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.pk == service.staff_id or is_staff_of(user, service.department_id)


def can_rate_case_service(user: Any, service: ServiceRecord) -> bool:
    case = service.case or service.node_case
    assert case is not None
    return is_applicant(user, case) and not is_own_service(user, service)


def can_work_ticket(user: Any, ticket: RectificationTicket) -> bool:
    return bool(department_roles(user, ticket.department_id) & set(TICKET_ROLES))


def can_file_appeal(user: Any, ticket: RectificationTicket) -> bool:
    return bool(department_roles(user, ticket.department_id) & set(APPEAL_ROLES))


def authority_region_prefixes(user: Any) -> list[str]:
    """Region prefixes a user supervises as a member of a 政务服务管理机构."""
    memberships = [m for m in _active_memberships(user) if m.role in AUTHORITY_ROLES]
    if not memberships:
        return []
    authority_ids = set(
        ServiceAuthority.objects.filter(
            department_id__in=[m.department_id for m in memberships]
        ).values_list("department_id", flat=True)
    )
    return sorted(
        {
            region_prefix(m.department.region.code)
            for m in memberships
            if m.department_id in authority_ids
        }
    )


def is_authority_for(user: Any, department: Any) -> bool:
    """A 政务服务管理机构 member whose region contains ``department`` — and not a member of
    ``department`` itself: a department never decides its own appeal."""
    if is_staff_of(user, department.pk):
        return False
    code = department.region.code
    return any(code.startswith(prefix) for prefix in authority_region_prefixes(user))
