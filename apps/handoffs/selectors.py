"""Reads of the outbox shared by the office screens, the department API and /healthz."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.core.models import Department
from apps.handoffs.constants import OPEN_STATES, HandoffState
from apps.handoffs.models import DepartmentEndpoint, Handoff
from apps.identity.constants import StaffRole

UNDELIVERED_STATES = (HandoffState.PENDING, HandoffState.SENDING)
# Small enough for an index-only look at the open part of the table (acknowledged rows, the
# vast majority, are never counted on hot paths).
ATTENTION_STATES = (*OPEN_STATES, HandoffState.DEAD)


def handoff_health() -> dict[str, Any]:
    """/healthz details: open counts and the age of the oldest handoff not yet delivered."""
    row = Handoff.objects.filter(state__in=ATTENTION_STATES).aggregate(
        oldest=Min("created_at", filter=Q(state__in=UNDELIVERED_STATES)),
        pending=Count("pk", filter=Q(state=HandoffState.PENDING)),
        sending=Count("pk", filter=Q(state=HandoffState.SENDING)),
        delivered=Count("pk", filter=Q(state=HandoffState.DELIVERED)),
        dead=Count("pk", filter=Q(state=HandoffState.DEAD)),
    )
    oldest = row.pop("oldest")
    age = round((timezone.now() - oldest).total_seconds(), 1) if oldest else 0.0
    return {"oldest_pending_age_seconds": age, **row}


# --- office (staff users) -----------------------------------------------------------------


def _is_platform_admin(user: Any) -> bool:
    return bool(getattr(user, "is_superuser", False))


def staff_department_ids(user: Any, *roles: str) -> list[int]:
    filters = Q(is_active=True)
    if roles:
        filters &= Q(role__in=roles)
    return list(user.memberships.filter(filters).values_list("department_id", flat=True))


def list_handoffs_for(
    user: Any,
    *,
    state: str | None = None,
    department_id: int | None = None,
    direction: str | None = None,
) -> QuerySet[Handoff]:
    """Handoffs a staff user may see: platform administrators all, staff their departments'.

    ``direction`` is ``in`` (received by ``department_id``), ``out`` (sent by it) or either.
    """
    handoffs = Handoff.objects.select_related("source_department", "target_department")
    if not _is_platform_admin(user):
        mine = staff_department_ids(user)
        handoffs = handoffs.filter(
            Q(source_department_id__in=mine) | Q(target_department_id__in=mine)
        )
    if state:
        handoffs = handoffs.filter(state=state)
    if department_id:
        if direction == "in":
            handoffs = handoffs.filter(target_department_id=department_id)
        elif direction == "out":
            handoffs = handoffs.filter(source_department_id=department_id)
        else:
            handoffs = handoffs.filter(
                Q(source_department_id=department_id) | Q(target_department_id=department_id)
            )
    return handoffs.order_by("-pk")


def get_handoff_for(user: Any, handoff_id: int) -> Handoff:
    try:
        return list_handoffs_for(user).get(pk=handoff_id)
    except Handoff.DoesNotExist as exc:
        raise Http404 from exc


def handoff_counts_for(user: Any) -> list[dict[str, Any]]:
    """Counts by target department and state, for the departments ``user`` may see."""
    rows = (
        list_handoffs_for(user)
        .order_by()
        .values("target_department_id", "target_department__name", "state")
        .annotate(n=Count("pk"))
    )
    table: dict[int, dict[str, Any]] = {}
    for row in rows:
        entry = table.setdefault(
            row["target_department_id"],
            {
                "department_id": row["target_department_id"],
                "department": row["target_department__name"],
                **dict.fromkeys(HandoffState.values, 0),
                "total": 0,
            },
        )
        entry[row["state"]] = row["n"]
        entry["total"] += row["n"]
    return sorted(table.values(), key=lambda entry: entry["department"])


def can_administer_handoff(user: Any, handoff: Handoff) -> bool:
    """Retry and re-route dead letters: platform administrators, or the sending department's
    administrator (it owns the case the handoff belongs to)."""
    if _is_platform_admin(user):
        return True
    return handoff.source_department_id in staff_department_ids(user, StaffRole.DEPT_ADMIN)


def can_sign_for_handoff(user: Any, handoff: Handoff) -> bool:
    """Sign for (签收) an internal handoff: staff of the target department."""
    return handoff.target_department_id in staff_department_ids(user)


def administered_departments(user: Any) -> QuerySet[Department]:
    if _is_platform_admin(user):
        return Department.objects.filter(is_active=True)
    return Department.objects.filter(
        pk__in=staff_department_ids(user, StaffRole.DEPT_ADMIN), is_active=True
    )


def get_endpoint(department: Department) -> DepartmentEndpoint | None:
    return DepartmentEndpoint.objects.filter(department=department).first()


# --- department systems (OAuth2 clients) --------------------------------------------------


def list_inbox_for_department(
    department: Department, *, after_id: int = 0, limit: int = 50
) -> list[Handoff]:
    """Open handoffs for ``department``, oldest first, ``after_id`` for paging."""
    return list(
        Handoff.objects.select_related("source_department", "target_department")
        .filter(target_department=department, state__in=OPEN_STATES, pk__gt=after_id)
        .order_by("pk")[:limit]
    )


def get_handoff_for_department(department: Department, handoff_id: int) -> Handoff:
    try:
        return Handoff.objects.select_related("source_department", "target_department").get(
            pk=handoff_id, target_department=department
        )
    except Handoff.DoesNotExist as exc:
        raise Http404 from exc
