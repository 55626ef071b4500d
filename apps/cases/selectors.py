"""Reads of cases, always scoped to an actor (STYLE.md C4 R1/R2).

Single-object getters raise ``Http404`` for anything the actor may not see, so a guessed id
reveals nothing. List selectors apply ``select_related`` so pages and the API stay at a constant
number of queries whatever the number of rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case as DbCase
from django.db.models import Count, DateTimeField, F, Q, QuerySet, When
from django.http import Http404
from django.utils import timezone

from apps.cases import sla
from apps.cases.constants import (
    CLOCK_STATES,
    DEPARTMENT_STATES,
    OFFICE_QUEUE_STATES,
    CaseStatus,
    Channel,
)
from apps.cases.models import Case, CaseEvent, CaseMaterial
from apps.cases.permissions import (
    CLERK_ROLES,
    STAFF_READ_ROLES,
    can_view_case,
    can_view_case_as_staff,
    supervised_department_ids,
)

# Read-only predicates other apps use (reviews), re-exported as part of the public surface.
from apps.cases.permissions import is_applicant as is_applicant
from apps.cases.permissions import region_prefix as region_prefix
from apps.catalog.models import ItemVersion
from apps.core.metrics import GaugeSample
from apps.identity.constants import StaffRole
from apps.identity.selectors import active_posts, represented_enterprise_ids

_LIST_RELATED = ("item_version", "department")
# The columns the list pages (my cases, the clerk queue) show or compute from: the row, the
# SLA figures (``sla_figures``) and the item's and department's names. Loading whole rows of
# three wide tables cost several times the query itself in Python for a page of 20.
_PAGE_LIST_FIELDS = (
    "number",
    "status",
    "channel",
    "applicant_name",
    "created_at",
    "received_at",
    "accepted_at",
    "promised_days",
    "extension_days",
    "paused_days",
    "paused_since",
    "deadline",
    "decided_at",
    "closed_at",
    "item_version__name",
    "item_version__name_en",
    "department__name",
)


@dataclass(frozen=True, slots=True)
class CaseRow:
    """One line of a case list (my cases, the clerk queue): the columns the page shows or
    computes the SLA badge from (``sla_figures`` takes a row like a case). Read as tuples:
    model instances with deferred fields and two joined models cost three times the query
    itself in Python for a page of 20."""

    pk: int
    number: str
    status: str
    channel: str
    applicant_name: str
    created_at: datetime
    received_at: datetime | None
    accepted_at: datetime | None
    promised_days: int | None
    extension_days: int
    paused_days: int
    paused_since: datetime | None
    deadline: datetime | None
    decided_at: datetime | None
    closed_at: datetime | None
    item_name: str
    department_name: str


# CaseRow's fields, in order, as ORM paths (``case_rows`` fails loudly if they drift apart).
_ROW_COLUMNS = ("pk", *(field for field in _PAGE_LIST_FIELDS if field != "item_version__name_en"))


def case_rows(cases: QuerySet[Case]) -> list[CaseRow]:
    """The rows of ``cases`` (scoped, ordered and sliced by the caller), in one query."""
    return [CaseRow(*values) for values in cases.values_list(*_ROW_COLUMNS)]


def staff_visible() -> Q:
    """The cases staff may know of at all (issue 15 §3).

    A draft is the applicant's private work until it is submitted: no staff role (clerk,
    reviewer, department administrator, supervisor, platform administrator) and no department
    system sees it in a queue, a screen, the API, a search or a count. Every staff-facing read
    goes through this condition (or ``permissions.can_view_case_as_staff`` for one row).
    """
    return ~Q(status=CaseStatus.DRAFT)


def list_cases_for_applicant(user: Any) -> QuerySet[Case]:
    """My cases: as the person applying, the acting person, or an enterprise's representative."""
    if not getattr(user, "is_authenticated", False):
        return Case.objects.none()
    scope = Q(acting_user=user) | Q(applicant_user=user)
    enterprise_ids = represented_enterprise_ids(user)
    if enterprise_ids:
        scope |= Q(enterprise_id__in=enterprise_ids)
    return (
        Case.objects.filter(scope)
        .select_related(*_LIST_RELATED)
        .only(*_PAGE_LIST_FIELDS)
        .order_by("-created_at", "-pk")
    )


def get_case_for_applicant(*, user: Any, case_id: int) -> Case:
    case = (
        Case.objects.select_related(*_LIST_RELATED, "enterprise", "hall").filter(pk=case_id).first()
    )
    if case is None or not getattr(user, "is_authenticated", False):
        raise Http404
    from apps.cases.permissions import is_applicant

    if not is_applicant(user, case):
        raise Http404
    return case


def staff_department_ids(user: Any, roles: Iterable[str] = STAFF_READ_ROLES) -> list[int]:
    if not getattr(user, "is_authenticated", False):
        return []
    return [post[0] for post in active_posts(user, roles)]


def get_case_for_staff(*, user: Any, case_id: int) -> Case:
    case = (
        Case.objects.select_related(
            *_LIST_RELATED, "enterprise", "hall", "accepted_by", "walk_in_person"
        )
        .filter(staff_visible(), pk=case_id)
        .first()
    )
    if case is None or not can_view_case_as_staff(user, case):
        raise Http404
    return case


def get_case_for_user(*, user: Any, case_id: int) -> Case:
    case = Case.objects.select_related(*_LIST_RELATED, "hall").filter(pk=case_id).first()
    if case is None or not can_view_case(user, case):
        raise Http404
    return case


# The queue's views of the clerk's cases (``QueueFilters.status`` takes one of these or a
# single status). The default shows what needs someone at the window now, most urgent first.
QUEUE_TODO = "todo"  # 待办: 待受理, and for department administrators the running clocks
QUEUE_PENDING = "pending"  # 待受理: received, not yet accepted or told to supplement
QUEUE_LIVE = "live"  # 全部在办: everything still in process, oldest first
QUEUE_GROUPS = (QUEUE_TODO, QUEUE_PENDING, QUEUE_LIVE)
# 待受理: the window must accept, refuse or issue the one-time notice within five days of
# receipt (DOMAIN.md §1.5), so these come first in a clerk's day.
PENDING_STATES = (CaseStatus.SUBMITTED, CaseStatus.PRECHECKED, CaseStatus.SUPPLEMENTED)
RUNNING_STATES = (CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW)


@dataclass(frozen=True)
class QueueFilters:
    # A status, or a group: "" (= QUEUE_TODO), QUEUE_PENDING, QUEUE_LIVE.
    status: str = ""
    item_code: str = ""
    sla: str = ""  # "", "yellow", "red"
    number: str = ""
    hall_id: int | None = None
    channel: str = ""
    # "" (default): the clerk's hall(s) plus the department's online cases; "all": every case
    # of the clerk's departments (and, for supervisors, of their region subtree).
    scope: str = ""

    @property
    def group(self) -> str:
        """The group shown when no single status is chosen: a warning-light filter (临期/超期)
        looks at every live case, otherwise the default is the to-do view."""
        if self.status in QUEUE_GROUPS:
            return self.status
        if self.status:
            return ""
        return QUEUE_LIVE if self.sla else QUEUE_TODO


QUEUE_STATES = list(OFFICE_QUEUE_STATES)

Membership = tuple[int, int | None, str, str]


QUEUE_ROLES = (*CLERK_ROLES, StaffRole.SUPERVISOR)


def staff_memberships(user: Any) -> list[Membership]:
    """(department, hall, role, region code) of every active staff membership (cached with
    the session's user, ``identity.principal``); the office pages check them once and pass
    them on (``queue_memberships``)."""
    if not getattr(user, "is_authenticated", False):
        return []
    return active_posts(user, STAFF_READ_ROLES)


def queue_memberships(
    user: Any, memberships: Iterable[Membership] | None = None
) -> list[Membership]:
    """The memberships that give a queue: of ``memberships`` (``staff_memberships`` already
    read in this request), else the user's cached posts."""
    if memberships is not None:
        return [m for m in memberships if m[2] in QUEUE_ROLES]
    if not getattr(user, "is_authenticated", False):
        return []
    return active_posts(user, QUEUE_ROLES)


def queue_scope(user: Any, scope: str = "", memberships: list[Membership] | None = None) -> Q:
    """Which cases the office queue shows ``user`` (docs/permissions.md).

    - A clerk posted at a hall: the walk-in cases received at that hall plus the department's
      cases without a hall (online applications). ``scope="all"``: every case of the
      department.
    - A clerk or department admin without a hall: every case of the department.
    - A supervisor: every case of the departments in their region subtree (read-only).
    Never a draft (``staff_visible``). One query for the memberships (none when they are
    passed in), one more for a supervisor's departments.
    """
    if not getattr(user, "is_authenticated", False):
        return Q(pk__in=[])
    if memberships is None:
        memberships = queue_memberships(user)
    condition = Q(pk__in=[])
    whole: set[int] = set()
    for department_id, hall_id, role, _region_code in memberships:
        if role == StaffRole.SUPERVISOR:
            continue
        if hall_id is None or scope == "all":
            whole.add(department_id)
        else:
            condition |= Q(department_id=department_id) & (
                Q(hall_id=hall_id) | Q(hall_id__isnull=True)
            )
    supervised = [code for _d, _h, role, code in memberships if role == StaffRole.SUPERVISOR]
    if supervised:
        whole |= set(supervised_department_ids(supervised))
    if whole:
        condition |= Q(department_id__in=sorted(whole))
    return condition & staff_visible()


def todo_states(memberships: Iterable[Membership]) -> list[str]:
    """What needs the person now: 待受理 for everyone at the window; a department
    administrator (who starts the review and decides) and a supervisor (who watches the
    promises) also see the cases whose clock runs."""
    roles = {role for _d, _h, role, _c in memberships}
    states = [str(s) for s in PENDING_STATES]
    if roles & {StaffRole.DEPT_ADMIN, StaffRole.SUPERVISOR}:
        states += [str(s) for s in RUNNING_STATES]
    return states


def _urgency() -> Any:
    """The date by which someone must act: the five-day acceptance window for a case waiting
    at the window, the promised completion date for a running one."""
    return DbCase(
        When(status__in=list(PENDING_STATES), then=F("supplement_notice_due")),
        default=F("deadline"),
        output_field=DateTimeField(),
    )


def list_queue_for_clerk(
    user: Any,
    filters: QueueFilters | None = None,
    staff: Iterable[Membership] | None = None,
) -> QuerySet[Case]:
    """The hall queue. By default what needs the clerk now (``todo_states``), most urgent
    first; 全部在办 (``QUEUE_LIVE``) and single statuses list the oldest first. ``staff``: the
    user's ``staff_memberships`` when the caller has read them."""
    filters = filters or QueueFilters()
    memberships = queue_memberships(user, staff)
    qs = Case.objects.filter(queue_scope(user, filters.scope, memberships))
    group = filters.group
    if group == QUEUE_TODO:
        qs = qs.filter(status__in=todo_states(memberships))
    elif group == QUEUE_PENDING:
        qs = qs.filter(status__in=[str(s) for s in PENDING_STATES])
    elif group == QUEUE_LIVE:
        qs = qs.filter(status__in=QUEUE_STATES)
    else:
        qs = qs.filter(status=filters.status)
    if filters.item_code:
        # The item's versions first (one small query), so that PostgreSQL can walk the live
        # cases of one version in order (cases_queue_version_live) instead of joining every
        # case of the department to its version.
        version_ids = list(
            ItemVersion.objects.filter(implementation_code=filters.item_code).values_list(
                "pk", flat=True
            )
        )
        qs = qs.filter(item_version_id__in=version_ids)
    if filters.number:
        qs = qs.filter(number__startswith=filters.number.strip())
    if filters.hall_id:
        qs = qs.filter(hall_id=filters.hall_id)
    if filters.channel:
        qs = qs.filter(channel=filters.channel)
    if filters.sla:
        qs = qs.filter(_sla_condition(filters.sla, timezone.now()))
    qs = qs.select_related(*_LIST_RELATED).only(*_PAGE_LIST_FIELDS)
    if group in (QUEUE_TODO, QUEUE_PENDING) or filters.sla:
        return qs.order_by(_urgency().asc(nulls_last=True), "received_at", "pk")
    return qs.order_by("received_at", "pk")


@dataclass(frozen=True)
class QueueCounts:
    """The clerk's work at a glance (office home), in the queue's default scope."""

    pending: int  # 待受理
    awaiting_supplement: int  # 待补正 (the applicant's turn; the clerk watches the deadline)
    due_soon: int  # 临期: yellow light
    overdue: int  # 超期: red light
    has_queue: bool  # the person has a queue at all (clerk, department admin, supervisor)


def queue_counts(user: Any) -> QueueCounts:
    """Two queries: the memberships, then the four counts in one pass over the scope (plus one
    for a supervisor's departments)."""
    memberships = queue_memberships(user)
    if not memberships:
        return QueueCounts(0, 0, 0, 0, has_queue=False)
    now = timezone.now()
    figures = Case.objects.filter(queue_scope(user, "", memberships)).aggregate(
        pending=Count("pk", filter=Q(status__in=list(PENDING_STATES))),
        awaiting_supplement=Count("pk", filter=Q(status=CaseStatus.AWAITING_SUPPLEMENT)),
        due_soon=Count("pk", filter=_sla_condition("yellow", now)),
        overdue=Count("pk", filter=_sla_condition("red", now)),
    )
    return QueueCounts(**figures, has_queue=True)


def _sla_condition(level: str, now: datetime) -> Q:
    """Cases whose running clock is overdue (red) or within the yellow threshold (yellow).

    Computed from the stored deadline (no dependency on the warning beat task); a suspended
    case's clock is paused and shows no colour, like ``sla.warning_level``.
    """
    from apps.core import calendar

    running = Q(status__in=[CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW])
    red = _red_q(now)
    if level == "red":
        return running & red
    horizon = calendar.working_deadline(now, sla.yellow_threshold())
    return running & Q(deadline__lte=horizon) & ~red


def count_cases_past_sla(now: datetime | None = None) -> int:
    """Cases whose running clock has passed its deadline (one indexed count on
    ``status, deadline``). Suspended cases are paused and not counted."""
    now = now or timezone.now()
    return Case.objects.filter(
        status__in=[CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW], deadline__lt=now
    ).count()


def metrics_samples() -> list[GaugeSample]:
    """/metrics figures of the cases app (one query)."""
    return [
        GaugeSample(
            "cases_past_sla",
            "Cases whose promised completion date has passed while their clock runs.",
            float(count_cases_past_sla()),
        )
    ]


def _red_q(now: datetime) -> Q:
    """Stored deadlines that are red at ``now`` (``sla.is_red`` as a query)."""
    if sla.red_threshold() == 0:
        return Q(deadline__lt=now)
    return Q(deadline__lte=sla.red_cutoff(now))


def list_cases_for_department(
    department_id: int,
    *,
    status: str = "",
    item_code: str = "",
    deadline_before: datetime | None = None,
    deadline_after: datetime | None = None,
) -> QuerySet[Case]:
    """Cases handed to a department (accepted or later), for its API client."""
    qs = Case.objects.filter(
        staff_visible(), department_id=department_id, status__in=list(DEPARTMENT_STATES)
    )
    if status:
        qs = qs.filter(status=status)
    if item_code:
        qs = qs.filter(
            Q(item_version__implementation_code=item_code) | Q(item_version__basic_code=item_code)
        )
    if deadline_before:
        qs = qs.filter(deadline__lte=deadline_before)
    if deadline_after:
        qs = qs.filter(deadline__gte=deadline_after)
    return qs.select_related(*_LIST_RELATED)


def get_case_for_department(*, department_id: int, case_id: int) -> Case:
    case = (
        Case.objects.select_related(*_LIST_RELATED, "enterprise")
        .filter(
            staff_visible(),
            pk=case_id,
            department_id=department_id,
            status__in=list(DEPARTMENT_STATES),
        )
        .first()
    )
    if case is None:
        raise Http404
    return case


def case_timeline(case: Case, *, public_only: bool) -> QuerySet[CaseEvent]:
    qs = case.events.all()
    if public_only:
        qs = qs.filter(is_public=True)
    return qs.order_by("created_at", "pk")


def current_materials(case: Case) -> QuerySet[CaseMaterial]:
    return case.materials.filter(is_current=True).order_by("slot_key", "pk")


def get_material_for_user(*, user: Any, material_id: int) -> CaseMaterial:
    """A material file the user may download (applicant of, or staff of, its case)."""
    material = CaseMaterial.objects.select_related("case").filter(pk=material_id).first()
    if material is None or not material.file or not can_view_case(user, material.case):
        raise Http404
    return material


@dataclass(frozen=True)
class SlaFigures:
    deadline: datetime | None
    days_used: int
    days_left: int
    level: str | None
    paused: bool
    running: bool = True  # the clock runs (or is paused) in the case's current state
    # After the decision: whether it came by the deadline (None while the clock runs).
    on_time: bool | None = None
    # The deadline reaches a year whose State Council arrangement is not loaded yet: it counts
    # the statutory holidays only and may move when the notice is loaded (issue 15 §4).
    provisional: bool = False

    @property
    def days_overdue(self) -> int:
        return max(0, -self.days_left)


def is_deadline_provisional(case: Case) -> bool:
    """Whether the case's running clock counts on a year without a published arrangement (no
    database query: the calendar is held in memory)."""
    from apps.core import calendar

    if case.status not in CLOCK_STATES or case.accepted_at is None or case.deadline is None:
        return False
    return calendar.is_provisional_span(case.accepted_at, case.deadline)


def status_label(case: Case) -> str:
    """``case.get_status_display()`` without its cost: Django rebuilds a hashable dict of every
    choice, translating each label, on each call (a third of a list page's render)."""
    try:
        return str(CaseStatus(case.status).label)
    except ValueError:
        return case.status


def channel_label(case: Case) -> str:
    """``case.get_channel_display()``, as cheaply as ``status_label``."""
    try:
        return str(Channel(case.channel).label)
    except ValueError:
        return case.channel


def sla_figures(case: Case, now: datetime | None = None) -> SlaFigures | None:
    """承诺办结日期, 已用/剩余工作日 and the warning colour; no database query."""
    from apps.cases.services import case_clock

    clock = case_clock(case)
    if clock is None:
        return None
    now = now or timezone.now()
    if case.status in CLOCK_STATES:
        return SlaFigures(
            deadline=case.deadline,
            days_used=sla.days_used(clock, now),
            days_left=sla.days_left(clock, now),
            level=sla.warning_level(clock, now),
            paused=sla.is_paused(clock),
            provisional=is_deadline_provisional(case),
        )
    # Decided, completed, delivered or withdrawn: the clock stopped at the decision (or at the
    # withdrawal); show the working days it used and whether the decision was in time.
    stopped = case.decided_at or case.closed_at or now
    on_time = None
    if case.decided_at is not None and case.deadline is not None:
        on_time = case.decided_at <= case.deadline
    return SlaFigures(
        deadline=case.deadline,
        days_used=sla.days_used(clock, stopped),
        days_left=sla.days_left(clock, stopped),
        level=None,
        paused=False,
        running=False,
        on_time=on_time,
    )


def applicant_kind_for(user: Any, enterprise: Any | None) -> str:
    """The applicant kind of an online application by ``user`` (for ``enterprise``): the
    enterprise's representative applies as the enterprise, anyone else for it as an agent."""
    from apps.cases.constants import ApplicantKind
    from apps.identity.selectors import enterprise_capacity

    if enterprise is None:
        return ApplicantKind.PERSON
    if enterprise_capacity(user, enterprise) is not None:
        return ApplicantKind.ENTERPRISE
    return ApplicantKind.AGENT


@dataclass(frozen=True)
class UploadHint:
    """What a material slot takes (shown beside each slot): file types and size limit."""

    types: str
    max_mb: str
    accept: str


def upload_hint() -> UploadHint:
    from django.conf import settings

    from apps.core.i18n import join_list
    from apps.core.uploads import allowed_types

    extensions = sorted({ext.upper() for ext in allowed_types().values()})
    max_mb = int(settings.CASES_UPLOAD_MAX_BYTES) / 1024 / 1024
    return UploadHint(
        types=join_list(extensions),
        max_mb=f"{max_mb:g}",
        accept=",".join(sorted(allowed_types())),
    )


# --- what the applicant sees of progress and outcome ------------------------------------------

# 申报 → 受理 → 审查 → 决定 → 办结 → 送达: per state, how many steps are done and which one
# the case is at now (index into PROGRESS_STEPS).
PROGRESS_STEPS = ("申报", "受理", "审查", "决定", "办结", "送达")
_PROGRESS = {
    CaseStatus.DRAFT: (0, 0),
    CaseStatus.SUBMITTED: (1, 1),
    CaseStatus.PRECHECKED: (1, 1),
    CaseStatus.AWAITING_SUPPLEMENT: (1, 1),
    CaseStatus.SUPPLEMENTED: (1, 1),
    CaseStatus.NOT_ACCEPTED: (1, 1),
    CaseStatus.SUPPLEMENT_EXPIRED: (1, 1),
    CaseStatus.ACCEPTED: (2, 2),
    CaseStatus.IN_REVIEW: (2, 2),
    CaseStatus.SUSPENDED: (2, 2),
    CaseStatus.DECIDED: (4, 4),
    CaseStatus.COMPLETED: (5, 5),
    CaseStatus.DELIVERED: (6, 5),
}
_STOPPED = frozenset({CaseStatus.NOT_ACCEPTED, CaseStatus.SUPPLEMENT_EXPIRED, CaseStatus.WITHDRAWN})


@dataclass(frozen=True)
class ProgressStep:
    label: str
    state: str  # "done", "current", "stopped" or "upcoming"

    @property
    def is_current(self) -> bool:
        return self.state in ("current", "stopped")


def progress_steps(case: Case) -> list[ProgressStep]:
    """The stepper on the case page, from the case's state alone (no query). A withdrawn
    case stops where it was: before acceptance at 受理, after it at 审查."""
    from django.utils.translation import gettext as _

    status = case.status
    if status == CaseStatus.WITHDRAWN:
        done, current = (2, 2) if case.accepted_at else (1, 1)
    else:
        done, current = _PROGRESS.get(status, (0, 0))
    steps = []
    for index, label in enumerate(PROGRESS_STEPS):
        if index == current and status in _STOPPED:
            state = "stopped"
        elif index < done:
            state = "done"
        elif index == current:
            state = "current"
        else:
            state = "upcoming"
        steps.append(ProgressStep(label=_(label), state=state))
    if status == CaseStatus.DELIVERED:
        steps[-1] = ProgressStep(label=steps[-1].label, state="done")
    return steps


def wallet_url() -> str | None:
    """The holder's e-licence wallet (the licences app), ``None`` when it is not installed."""
    from django.urls import NoReverseMatch, reverse

    try:
        return reverse("licences:wallet")
    except NoReverseMatch:
        return None


@dataclass(frozen=True)
class NextSteps:
    """What the applicant does after a decision: how the result reaches them.

    ``method``: ``licence`` (a result licence was recorded on the case, ``record_result_
    licence``: it is in the e-licence wallet), ``courier`` (``result_data["delivery"]``
    says so, with the address the department uses), ``window`` (pick it up: the hall of the
    case, else the item's 办理地点 and 办理时间), or ``remedies`` (a refusal: review or suit).
    """

    method: str
    place: str = ""
    hours: str = ""
    window: str = ""
    pickup_from: str = ""
    address: str = ""
    tracking: str = ""
    phone: str = ""
    licence_name: str = ""
    licence_identifier: str = ""
    wallet_url: str | None = None
    delivered_at: datetime | None = None


def result_next_steps(case: Case) -> NextSteps | None:
    """``None`` until the case is decided. Reads ``case.result_data``: ``licence`` (from the
    decision hook) and ``delivery`` = ``{"method": "window"|"courier", "window", "pickup_from",
    "address", "tracking"}`` (optional, from the department's decision)."""
    from apps.cases.constants import Decision

    if not case.decision:
        return None
    result = case.result_data or {}
    delivery = result.get("delivery") if isinstance(result.get("delivery"), dict) else {}
    version = case.item_version
    if case.decision == Decision.DENIED:
        return NextSteps(method="remedies", phone=version.consult_phone or "")
    licence = result.get("licence") if isinstance(result.get("licence"), dict) else None
    if licence:
        return NextSteps(
            method="licence",
            licence_name=str(licence.get("name", "")),
            licence_identifier=str(licence.get("identifier", "")),
            wallet_url=wallet_url(),
            delivered_at=case.delivered_at,
        )
    if delivery.get("method") == "courier":
        return NextSteps(
            method="courier",
            address=str(delivery.get("address", "")),
            tracking=str(delivery.get("tracking", "")),
            phone=version.consult_phone or "",
            delivered_at=case.delivered_at,
        )
    hall = case.hall
    ready = delivery.get("pickup_from") or (
        f"{timezone.localtime(case.completed_at):%Y-%m-%d}" if case.completed_at else ""
    )
    return NextSteps(
        method="window",
        place=(f"{hall.name}（{hall.address}）" if hall else version.handling_address or ""),
        hours=(hall.opening_hours if hall and hall.opening_hours else version.handling_time or ""),
        window=str(delivery.get("window", "")),
        pickup_from=str(ready),
        phone=(hall.phone if hall and hall.phone else version.consult_phone or ""),
        delivered_at=case.delivered_at,
    )
