"""What identity needs to know about cases, registered at startup (identity never imports
cases): whether a staff member handles a case of a person, a basis for revealing that person's
full ID number (apps.identity.permissions.register_reveal_basis)."""

from __future__ import annotations

from typing import Any

from django.db.models import Q

from apps.cases.models import Case
from apps.identity.constants import StaffRole

# Supervisors read across departments but never unmask personal data.
REVEAL_ROLES = (StaffRole.CLERK, StaffRole.REVIEWER, StaffRole.DEPT_ADMIN)


def staff_handles_person_case(staff: Any, subject: Any) -> bool:
    """``staff``'s department (any reveal role) or hall (clerks) has a case that ``subject``
    applied for or acted in as an agent."""
    memberships = list(
        staff.memberships.filter(is_active=True, role__in=REVEAL_ROLES).values_list(
            "department_id", "hall_id", "role"
        )
    )
    if not memberships:
        return False
    departments = {department for department, _hall, _role in memberships}
    halls = {hall for _dept, hall, role in memberships if hall and role == StaffRole.CLERK}
    return (
        Case.objects.filter(Q(applicant_user=subject) | Q(acting_user=subject))
        .filter(Q(department_id__in=departments) | Q(hall_id__in=halls))
        .exists()
    )
