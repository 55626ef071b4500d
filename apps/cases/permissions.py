"""Who may see and act on a case (STYLE.md P1). Services re-check through ``actor_kinds``."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from apps.cases.constants import Actor, CaseStatus, Channel
from apps.cases.models import Case
from apps.identity.constants import StaffRole
from apps.identity.models import ApiClient

CLERK_ROLES = (StaffRole.CLERK, StaffRole.DEPT_ADMIN)
DEPARTMENT_ROLES = (StaffRole.REVIEWER, StaffRole.DEPT_ADMIN)
STAFF_READ_ROLES = (*CLERK_ROLES, StaffRole.REVIEWER, StaffRole.SUPERVISOR)


@dataclass(frozen=True)
class CaseActor:
    """Who is acting: a user (citizen or staff), a department's API client, or the system."""

    user: Any | None = None
    client: ApiClient | None = None
    # A department's own system answering through the handoff inbox.
    department: Any | None = None

    @classmethod
    def system(cls) -> CaseActor:
        return cls()

    @classmethod
    def of(cls, user: Any) -> CaseActor:
        return cls(user=user)

    @classmethod
    def of_client(cls, client: ApiClient) -> CaseActor:
        return cls(client=client)

    @property
    def label(self) -> str:
        if self.department is not None:
            return f"{self.department.name}（业务系统）"
        if self.client is not None:
            return f"{self.client.department.name}（{self.client.application.name}）"
        if self.user is not None:
            return str(getattr(self.user, "display_name", "") or self.user.get_username())
        return "系统"


def is_applicant(user: Any, case: Case) -> bool:
    """The acting person, the person applicant, or whoever represents the enterprise applicant
    (legal representative or licence administrator). Agents see the cases they acted on."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.pk in (case.acting_user_id, case.applicant_user_id):
        return True
    if case.enterprise_id is None:
        return False
    from apps.identity.selectors import enterprise_capacity

    return enterprise_capacity(user, case.enterprise) is not None


def staff_roles(user: Any, department_id: int) -> set[str]:
    if not getattr(user, "is_authenticated", False):
        return set()
    return set(
        user.memberships.filter(department_id=department_id, is_active=True).values_list(
            "role", flat=True
        )
    )


def is_private_draft(case: Case) -> bool:
    """An applicant's unsubmitted online draft: no staff capacity and no department system
    reaches it (issue 15 §3). A window draft exists only inside the clerk's own intake
    transaction (``services.create_window_case``), so the clerk keeps their capacity there."""
    return case.status == CaseStatus.DRAFT and case.channel != Channel.WINDOW


def actor_kinds(actor: CaseActor, case: Case) -> set[str]:
    """The capacities in which ``actor`` may act on ``case``."""
    if is_private_draft(case):
        if actor.user is not None and is_applicant(actor.user, case):
            return {Actor.APPLICANT}
        return set()
    if actor.client is not None:
        client = actor.client
        if client.is_active and client.department_id == case.department_id:
            return {Actor.DEPARTMENT}
        return set()
    if actor.department is not None:
        return {Actor.DEPARTMENT} if actor.department.pk == case.department_id else set()
    if actor.user is None:
        return {Actor.SYSTEM}
    kinds: set[str] = set()
    if is_applicant(actor.user, case):
        kinds.add(Actor.APPLICANT)
    roles = staff_roles(actor.user, case.department_id)
    if roles & set(CLERK_ROLES):
        kinds.add(Actor.CLERK)
    if roles & set(DEPARTMENT_ROLES):
        kinds.add(Actor.DEPARTMENT)
    return kinds


def region_prefix(code: str) -> str:
    """The GB/T 2260 prefix shared by a region and everything under it (360000 → 36,
    360100 → 3601, 360102 → 360102; 9/12-digit town and village codes stay whole)."""
    if len(code) > 6:
        return code
    prefix = code
    while len(prefix) > 2 and prefix.endswith("00"):
        prefix = prefix[:-2]
    return prefix


def supervised_department_ids(region_codes: Iterable[str]) -> list[int]:
    """Departments in the region subtrees of a supervisor's memberships (read-only access)."""
    from django.db.models import Q

    from apps.core.models import Department

    condition = Q()
    for prefix in sorted({region_prefix(code) for code in region_codes if code}):
        condition |= Q(region__code__startswith=prefix)
    if not condition:
        return []
    return list(Department.objects.filter(condition).values_list("pk", flat=True))


def supervisor_region_codes(user: Any) -> list[str]:
    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        user.memberships.filter(is_active=True, role=StaffRole.SUPERVISOR).values_list(
            "department__region__code", flat=True
        )
    )


def can_view_case_as_staff(user: Any, case: Case) -> bool:
    """Staff of the case's department (any role), or a supervisor (监督人员) whose department's
    region contains the case's department: supervisors read across departments, never act.
    Nobody on the staff side sees a draft (``selectors.staff_visible``)."""
    if case.status == CaseStatus.DRAFT:
        return False
    if staff_roles(user, case.department_id) & set(STAFF_READ_ROLES):
        return True
    codes = supervisor_region_codes(user)
    return bool(codes) and case.department_id in supervised_department_ids(codes)


def can_view_case(user: Any, case: Case) -> bool:
    return is_applicant(user, case) or can_view_case_as_staff(user, case)
