"""Reads shared by the marketplace pages and API (STYLE.md: selectors)."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, Min, Prefetch, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from apps.audit.services import record_audit_event
from apps.identity.selectors import acting_enterprises
from apps.marketplace.constants import (
    PUBLIC_PROJECT_STATUSES,
    AgencyStatus,
    DrawStatus,
    ObjectionStatus,
    ProjectStatus,
    SanctionKind,
)
from apps.marketplace.models import (
    Agency,
    AgencyService,
    Bid,
    Contract,
    CreditChange,
    Draw,
    IntermediaryService,
    Objection,
    Project,
    Registration,
    Sanction,
)
from apps.marketplace.permissions import (
    can_act_for_enterprise,
    can_manage_project,
    can_supervise_service,
    is_operator,
)

# Agencies shown in the public directory: in 公示, listed, and suspended or expelled ones with
# their sanctions (public, DOMAIN.md §6.3).
DIRECTORY_STATUSES = (
    AgencyStatus.PUBLICITY,
    AgencyStatus.LISTED,
    AgencyStatus.SUSPENDED,
    AgencyStatus.EXPELLED,
)


def list_public_services() -> QuerySet[IntermediaryService]:
    return (
        IntermediaryService.objects.filter(is_published=True)
        .select_related("department")
        .annotate(agency_count=Count("agency_services", filter=Q(agency_services__status="active")))
        .order_by("code")
    )


def list_directory(*, query: str = "", service_id: int | None = None) -> QuerySet[Agency]:
    agencies = Agency.objects.filter(status__in=DIRECTORY_STATUSES).select_related("enterprise")
    if query:
        agencies = agencies.filter(
            Q(enterprise__name__icontains=query) | Q(enterprise__uscc=query.upper())
        )
    if service_id:
        agencies = agencies.filter(services__service_id=service_id)
    return agencies.order_by("-credit_score", "enterprise__uscc").distinct()


def get_directory_agency(agency_id: int) -> Agency:
    offers = AgencyService.objects.select_related("service").order_by("service__code")
    agency = (
        Agency.objects.filter(pk=agency_id, status__in=DIRECTORY_STATUSES)
        .select_related("enterprise")
        .prefetch_related(
            "qualifications",
            "sanctions",
            Prefetch("services", queryset=offers),
            Prefetch("credit_changes", queryset=CreditChange.objects.order_by("-created_at")),
        )
        .first()
    )
    if agency is None:
        raise Http404
    return agency


def list_public_projects(
    *, query: str = "", status: str = "", method: str = "", service_id: int | None = None
) -> QuerySet[Project]:
    projects = Project.objects.filter(status__in=PUBLIC_PROJECT_STATUSES).select_related(
        "service", "winner__enterprise"
    )
    if query:
        projects = projects.filter(Q(name__icontains=query) | Q(number=query.upper()))
    if status in PUBLIC_PROJECT_STATUSES:
        projects = projects.filter(status=status)
    if method:
        projects = projects.filter(method=method)
    if service_id:
        projects = projects.filter(service_id=service_id)
    return projects.order_by("-published_at", "-pk")


def get_project_for(user: Any, project_id: int) -> Project:
    """A published project for anyone; an unpublished one only for its owner or the operator."""
    project = (
        Project.objects.select_related(
            "service__department", "owner_enterprise", "winner__enterprise"
        )
        .filter(pk=project_id)
        .first()
    )
    if project is None:
        raise Http404
    if project.status not in PUBLIC_PROJECT_STATUSES and not (
        is_operator(user) or can_manage_project(user, project)
    ):
        raise Http404
    project.registered_ids = set(project.registrations.values_list("agency_id", flat=True))
    return project


def get_public_draw(draw_id: int) -> Draw:
    draw = (
        Draw.objects.select_related("project__service")
        .filter(pk=draw_id, project__status__in=PUBLIC_PROJECT_STATUSES)
        .first()
    )
    if draw is None:
        raise Http404
    return draw


def draw_document(draw: Draw) -> dict[str, Any]:
    """The published inputs and result (ARCHITECTURE.md contract: /marketplace/draws/<id>.json).

    Before the close only the commitment is public; the frozen list appears at the close; the
    server seed, the owner's nonce and the result appear once the draw has run. Nothing here is
    secret after the draw, so anyone can recompute it with scripts/recompute_draw.py.
    """
    project = draw.project
    document: dict[str, Any] = {
        "id": draw.pk,
        "project": {"number": project.number, "name": project.name, "method": project.method},
        "purpose": draw.purpose,
        "status": draw.status,
        "algorithm_version": draw.algorithm_version,
        "seed_commitment": draw.seed_commitment,
        "committed_at": draw.committed_at.isoformat(),
    }
    if draw.status in (DrawStatus.FROZEN, DrawStatus.DRAWN):
        document.update(
            registrants=draw.registrants,
            list_hash=draw.list_hash,
            public_value=draw.public_value,
            public_value_source=draw.public_value_source,
            picks=draw.picks,
            frozen_at=draw.frozen_at.isoformat() if draw.frozen_at else None,
        )
    if draw.status == DrawStatus.DRAWN:
        document.update(
            server_seed=draw.server_seed,
            owner_nonce=draw.owner_nonce,
            external_value=draw.external_value,
            external_source=draw.external_source,
            result=draw.result,
            drawn_at=draw.drawn_at.isoformat() if draw.drawn_at else None,
        )
    return document


def acting_agencies(user: Any) -> list[Agency]:
    """Agencies ``user`` may act for (legal rep, licence admin or agent, at L3)."""
    if not getattr(user, "is_authenticated", False):
        return []
    agencies = Agency.objects.filter(enterprise__in=acting_enterprises(user)).select_related(
        "enterprise"
    )
    return [a for a in agencies if can_act_for_enterprise(user, a.enterprise)]


def visible_bids(user: Any, project: Project) -> list[Bid]:
    """Sealed bidding: before a round closes its bids are visible only to the agency that
    placed each one; the owner, other agencies and the public see a round once it has closed.
    An owner's look at a still-sealed round is refused and audited."""
    now = timezone.now()
    own_agency_ids = {a.pk for a in acting_agencies(user)}
    bids = list(
        Bid.objects.filter(project=project)
        .select_related("agency__enterprise")
        .order_by("round_number", "price", "placed_at")
    )
    visible: list[Bid] = []
    hidden = 0
    for bid in bids:
        _opens, closes = project.bid_round_window(bid.round_number)
        if closes <= now or bid.agency_id in own_agency_ids:
            visible.append(bid)
        else:
            hidden += 1
    if hidden and project.status == ProjectStatus.SELECTING and can_manage_project(user, project):
        record_audit_event(
            actor=user,
            action="marketplace.sealed_bids_refused",
            obj=project,
            data={"hidden": hidden},
        )
    return visible


def list_blacklist() -> QuerySet[Sanction]:
    """黑名单 and 清退 decisions, public (DOMAIN.md §6.3)."""
    return (
        Sanction.objects.filter(
            kind__in=(SanctionKind.BLACKLIST, SanctionKind.EXPULSION), lifted_at__isnull=True
        )
        .select_related("agency__enterprise")
        .order_by("-starts_on", "-pk")
    )


def get_contract_for_project(project: Project) -> Contract | None:
    return Contract.objects.filter(project=project).first()


def list_pending_agencies() -> QuerySet[Agency]:
    offers = AgencyService.objects.select_related("service").prefetch_related("qualifications")
    return (
        Agency.objects.filter(status=AgencyStatus.PENDING)
        .select_related("enterprise")
        .prefetch_related(Prefetch("services", queryset=offers))
        .order_by("created_at")
    )


def list_submitted_projects() -> QuerySet[Project]:
    return (
        Project.objects.filter(status=ProjectStatus.SUBMITTED)
        .select_related("service")
        .order_by("created_at")
    )


def list_pending_objections() -> QuerySet[Objection]:
    """The operator's queue: the earliest reply deadline first."""
    return (
        Objection.objects.filter(status=ObjectionStatus.PENDING)
        .select_related("project__winner__enterprise", "agency__enterprise")
        .order_by("reply_due_at", "pk")
    )


def visible_objections(user: Any, project: Project) -> list[Objection]:
    """Objections are not public: the operator and the owner see all of a project's, an agency
    its own."""
    if not getattr(user, "is_authenticated", False):
        return []
    objections = list(
        Objection.objects.filter(project=project).select_related("agency__enterprise")
    )
    if not objections or is_operator(user) or can_manage_project(user, project):
        return objections
    own = {a.pk for a in acting_agencies(user)}
    return [o for o in objections if o.agency_id in own]


def objection_agencies(user: Any, project: Project) -> list[Agency]:
    """The user's agencies that may object now: registrants other than the winner, in 公示."""
    if (
        project.status != ProjectStatus.AWARDED
        or project.award_publicity_ends_at is None
        or timezone.now() >= project.award_publicity_ends_at
    ):
        return []
    return [
        a
        for a in acting_agencies(user)
        if a.pk in project.registered_ids and a.pk != project.winner_id
    ]


def visible_proposals(user: Any, project: Project) -> list[Registration]:
    """Quotes and proposals are sealed until registration closes: before that only the agency
    that submitted one sees it; afterwards the owner and the reviewers (the operator and the
    supervising 行业主管部门) see them all. Never public. A reviewer's look before the close is
    refused and audited."""
    if not getattr(user, "is_authenticated", False):
        return []
    registrations = list(
        project.registrations.select_related("agency__enterprise").order_by(
            "agency__enterprise__uscc"
        )
    )
    if not registrations:
        return []
    own = {a.pk for a in acting_agencies(user)}
    reviewer = (
        can_manage_project(user, project)
        or is_operator(user)
        or can_supervise_service(user, project.service.department_id)
    )
    closed = timezone.now() >= project.registration_closes_at
    visible = [r for r in registrations if r.agency_id in own or (reviewer and closed)]
    hidden = len(registrations) - len(visible)
    if reviewer and hidden:
        record_audit_event(
            actor=user,
            action="marketplace.sealed_proposals_refused",
            obj=project,
            data={"hidden": hidden},
        )
    return visible


def list_running_sanctions() -> QuerySet[Sanction]:
    """Sanctions in force (the operator may lift them early, with the reason)."""
    from apps.marketplace.services.sanctions import running

    return (
        Sanction.objects.filter(running(timezone.localdate()))
        .exclude(kind=SanctionKind.WARNING)
        .select_related("agency__enterprise")
        .order_by("ends_on", "pk")
    )


def bidding_state(project: Project) -> dict[str, Any] | None:
    """竞价 by the server's clock: the current round and its close; in open rounds also the
    current lowest price (never who bid it)."""
    if project.method != "bidding" or project.status != ProjectStatus.SELECTING:
        return None
    now = timezone.now()
    current = None
    for number in range(1, project.bid_rounds + 1):
        opens, closes = project.bid_round_window(number)
        if opens <= now < closes:
            current = {"number": number, "closes_at": closes}
    lowest = None
    if project.bid_mode == "open":
        lowest = Bid.objects.filter(project=project).aggregate(lowest=Min("price"))["lowest"]
    is_open = project.bid_mode == "open"
    return {"round": current, "lowest": lowest, "server_time": now, "open": is_open}


# --- the 行业主管部门's screens --------------------------------------------------------------


def supervised_department_ids(user: Any) -> list[int]:
    """Departments whose administrator or supervisor ``user`` is (active memberships)."""
    from apps.identity.constants import StaffRole

    if not getattr(user, "is_authenticated", False):
        return []
    return sorted(
        set(
            user.memberships.filter(
                is_active=True, role__in=(StaffRole.DEPT_ADMIN, StaffRole.SUPERVISOR)
            ).values_list("department_id", flat=True)
        )
    )


def department_overview(department_ids: list[int]) -> dict[str, Any]:
    """The department's list entries, completed contracts awaiting its evaluation, the agencies
    offering its services (highest credit first, 50 at most) and the sanctions in force."""
    from apps.marketplace.constants import ContractStatus, EvaluatorKind
    from apps.marketplace.services.sanctions import running

    services = list(
        IntermediaryService.objects.filter(department_id__in=department_ids)
        .select_related("department")
        .order_by("code")
    )
    contracts = list(
        Contract.objects.filter(
            status=ContractStatus.COMPLETED, project__service__department_id__in=department_ids
        )
        .exclude(evaluations__evaluator_kind=EvaluatorKind.SUPERVISOR)
        .select_related("project__service", "agency__enterprise")
        .order_by("owner_completed_at", "pk")[:50]
    )
    agency_ids = AgencyService.objects.filter(service__department_id__in=department_ids).values(
        "agency_id"
    )
    agencies = list(
        Agency.objects.filter(pk__in=agency_ids)
        .select_related("enterprise")
        .order_by("-credit_score", "enterprise__uscc")[:50]
    )
    sanctions = list(
        Sanction.objects.filter(running(timezone.localdate()), agency_id__in=agency_ids)
        .select_related("agency__enterprise")
        .order_by("ends_on", "pk")
    )
    return {
        "services": services,
        "contracts": contracts,
        "agencies": agencies,
        "sanctions": sanctions,
    }
