"""Reads of the outbox shared by the office screens, the department API and /healthz."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Min, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.core.metrics import GaugeSample
from apps.core.models import Department
from apps.handoffs.constants import OPEN_STATES, HandoffState
from apps.handoffs.models import (
    DepartmentEndpoint,
    Handoff,
    HandoffAnswer,
    HandoffAttempt,
    SigningKey,
)
from apps.handoffs.permissions import is_platform_admin, staff_department_ids
from apps.handoffs.registry import is_target_fixed
from apps.identity.constants import StaffRole

UNDELIVERED_STATES = (HandoffState.PENDING, HandoffState.SENDING)
# Small enough for an index-only look at the open part of the table (acknowledged rows, the
# vast majority, are never counted on hot paths).
ATTENTION_STATES = (*OPEN_STATES, HandoffState.DEAD)


def handoff_health() -> dict[str, Any]:
    """/healthz details: open counts, the age of the oldest handoff not yet delivered and of
    the oldest one delivered to a pull inbox or office queue but not yet acknowledged (a pull
    department that stopped polling, or an office nobody signs for)."""
    row = Handoff.objects.filter(state__in=ATTENTION_STATES).aggregate(
        oldest=Min("created_at", filter=Q(state__in=UNDELIVERED_STATES)),
        oldest_unacknowledged=Min("created_at", filter=Q(state=HandoffState.DELIVERED)),
        pending=Count("pk", filter=Q(state=HandoffState.PENDING)),
        sending=Count("pk", filter=Q(state=HandoffState.SENDING)),
        delivered=Count("pk", filter=Q(state=HandoffState.DELIVERED)),
        dead=Count("pk", filter=Q(state=HandoffState.DEAD)),
    )
    now = timezone.now()

    def age(moment: Any) -> float:
        return round((now - moment).total_seconds(), 1) if moment else 0.0

    return {
        "oldest_pending_age_seconds": age(row.pop("oldest")),
        "oldest_unacknowledged_age_seconds": age(row.pop("oldest_unacknowledged")),
        **row,
    }


def metrics_samples() -> list[GaugeSample]:
    """/metrics figures of the outbox, from ``handoff_health`` (one query). Acknowledged
    handoffs, the ever-growing bulk, are not counted per scrape."""
    health = handoff_health()
    by_state = [
        GaugeSample(
            "handoffs",
            "Handoffs not yet acknowledged, by state.",
            float(health[state]),
            {"state": str(state)},
        )
        for state in (
            HandoffState.PENDING,
            HandoffState.SENDING,
            HandoffState.DELIVERED,
            HandoffState.DEAD,
        )
    ]
    return [
        *by_state,
        GaugeSample(
            "handoff_oldest_pending_age_seconds",
            "Age of the oldest handoff not yet delivered (pending or sending); 0 when none.",
            float(health["oldest_pending_age_seconds"]),
        ),
        GaugeSample(
            "handoff_oldest_unacknowledged_age_seconds",
            "Age of the oldest handoff delivered but not yet acknowledged; 0 when none.",
            float(health["oldest_unacknowledged_age_seconds"]),
        ),
    ]


# --- office (staff users) -----------------------------------------------------------------


@dataclass(frozen=True)
class HandoffFilters:
    state: str = ""
    department_id: int | None = None
    direction: str = ""
    query: str = ""

    @classmethod
    def from_query(cls, params: Mapping[str, str]) -> HandoffFilters:
        """Filters from a query string; anything invalid is ignored, never an error page."""
        state = params.get("state", "")
        department = params.get("department", "")
        direction = params.get("direction", "")
        return cls(
            state=state if state in HandoffState.values else "",
            department_id=int(department) if department.isdigit() else None,
            direction=direction if direction in ("in", "out") else "",
            query=params.get("q", "").strip()[:128],
        )

    def as_query(self) -> dict[str, str]:
        values = {
            "state": self.state,
            "department": str(self.department_id or ""),
            "direction": self.direction,
            "q": self.query,
        }
        return {key: value for key, value in values.items() if value}


def _visible(user: Any) -> QuerySet[Handoff]:
    # The payload (encrypted personal data) is never shown on office screens: not decrypted.
    handoffs = Handoff.objects.defer("payload")
    if not is_platform_admin(user):
        mine = staff_department_ids(user)
        handoffs = handoffs.filter(
            Q(source_department_id__in=mine) | Q(target_department_id__in=mine)
        )
    return handoffs


def list_handoffs_for(user: Any, filters: HandoffFilters | None = None) -> QuerySet[Handoff]:
    """Handoffs a staff user may see, newest first: platform administrators all, staff those
    their departments sent or received. ``direction`` ``in``/``out`` applies to the filter
    department."""
    filters = filters or HandoffFilters()
    handoffs = _visible(user).select_related("source_department", "target_department")
    if filters.state:
        handoffs = handoffs.filter(state=filters.state)
    if filters.department_id:
        if filters.direction == "in":
            handoffs = handoffs.filter(target_department_id=filters.department_id)
        elif filters.direction == "out":
            handoffs = handoffs.filter(source_department_id=filters.department_id)
        else:
            handoffs = handoffs.filter(
                Q(source_department_id=filters.department_id)
                | Q(target_department_id=filters.department_id)
            )
    elif filters.direction:
        mine = staff_department_ids(user)
        if filters.direction == "in":
            handoffs = handoffs.filter(target_department_id__in=mine)
        else:
            handoffs = handoffs.filter(source_department_id__in=mine)
    if filters.query:
        handoffs = handoffs.filter(
            Q(subject_reference=filters.query) | Q(idempotency_key=filters.query)
        )
    return handoffs.order_by("-pk")


def get_handoff_for(user: Any, handoff_id: int) -> Handoff:
    """One handoff the user may see; 404 otherwise (never confirm another department's)."""
    try:
        return (
            _visible(user)
            .select_related("source_department", "target_department")
            .get(pk=handoff_id)
        )
    except Handoff.DoesNotExist as exc:
        raise Http404 from exc


def handoff_counts_for(user: Any) -> list[dict[str, Any]]:
    """Counts by target department and state (in ``HandoffState`` order) for ``user``."""
    rows = (
        _visible(user)
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
    result = sorted(table.values(), key=lambda entry: entry["department"])
    for entry in result:
        entry["cells"] = [{"state": state, "n": entry[state]} for state in HandoffState.values]
    return result


def filter_departments_for(user: Any) -> list[Department]:
    """Departments offered in the list filter: the user's own, or for platform administrators
    every department that sent or received a handoff."""
    if is_platform_admin(user):
        ids = Handoff.objects.order_by().values("target_department_id").distinct()
        sources = Handoff.objects.order_by().values("source_department_id").distinct()
        return list(Department.objects.filter(Q(pk__in=ids) | Q(pk__in=sources)).order_by("name"))
    return list(Department.objects.filter(pk__in=staff_department_ids(user)).order_by("name"))


def list_attempts(handoff: Handoff) -> list[HandoffAttempt]:
    return list(handoff.attempt_log.order_by("-number")[:100])


def list_answers(handoff: Handoff) -> list[HandoffAnswer]:
    return list(handoff.answers.select_related("department").order_by("created_at", "pk"))


def reroute_targets(handoff: Handoff) -> list[Department]:
    if is_target_fixed(handoff.subject_type):
        return []  # bound to its department: retry after fixing the endpoint instead
    return list(
        Department.objects.filter(is_active=True)
        .exclude(pk=handoff.target_department_id)
        .only("pk", "name")
        .order_by("name")
    )


def get_reroute_target(department_id: int) -> Department | None:
    return Department.objects.filter(pk=department_id, is_active=True).first()


def administered_department_ids(user: Any) -> list[int]:
    return staff_department_ids(user, StaffRole.DEPT_ADMIN)


def administered_departments(user: Any) -> list[Department]:
    return list(
        Department.objects.filter(pk__in=administered_department_ids(user)).order_by("name")
    )


def get_department(department_id: int) -> Department | None:
    return Department.objects.filter(pk=department_id, is_active=True).first()


def get_endpoint(department: Department) -> DepartmentEndpoint | None:
    return DepartmentEndpoint.objects.filter(department=department).first()


def endpoint_initial(endpoint: DepartmentEndpoint | None) -> dict[str, Any]:
    if endpoint is None:
        return {}
    fields = ("mode", "push_url", "timeout_seconds", "max_attempts", "replay_window_seconds")
    return {field: getattr(endpoint, field) for field in (*fields, "is_active")}


def list_signing_keys(endpoint: DepartmentEndpoint | None) -> list[SigningKey]:
    if endpoint is None:
        return []
    return list(endpoint.keys.order_by("-created_at", "-pk"))


def key_belongs_to(endpoint: DepartmentEndpoint, key_id: int) -> bool:
    return endpoint.keys.filter(pk=key_id).exists()


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
        return (
            Handoff.objects.select_related("source_department", "target_department")
            .defer("payload")
            .get(pk=handoff_id, target_department=department)
        )
    except Handoff.DoesNotExist as exc:
        raise Http404 from exc
