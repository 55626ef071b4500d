"""Reads for the bundle pages and API (STYLE.md C0)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Prefetch

from apps.bundles import services
from apps.bundles.constants import VersionStatus
from apps.bundles.models import BundleApplication, BundleChild, BundleComponent, BundleVersion


def list_published_versions() -> list[BundleVersion]:
    return list(
        BundleVersion.objects.filter(status=VersionStatus.PUBLISHED)
        .select_related("bundle", "lead_department", "theme")
        .order_by("audience", "name")
    )


def get_published_version(code: str) -> BundleVersion | None:
    """The published version of bundle ``code`` with everything its guide shows."""
    return (
        BundleVersion.objects.filter(status=VersionStatus.PUBLISHED, bundle__code=code)
        .select_related("bundle", "lead_department", "theme")
        .prefetch_related(
            "partner_departments",
            "questions",
            "edges",
            "outputs",
            "fields__targets",
            "materials__targets",
            Prefetch(
                "components",
                queryset=BundleComponent.objects.select_related(
                    "item_version__department"
                ).prefetch_related("item_version__materials"),
            ),
        )
        .first()
    )


@dataclass
class Guide:
    """一次告知: what applies for the answers so far, and what the applicant brings."""

    version: BundleVersion
    answers: dict[str, Any]
    errors: dict[str, str]
    questions: list[Any]  # the questions asked (visible), in order
    complete: bool
    components: list[BundleComponent] = field(default_factory=list)
    materials: list[tuple[Any, bool]] = field(default_factory=list)
    visits: int = 0
    savings: dict[str, dict[str, int]] = field(default_factory=dict)
    upstream: dict[str, list[str]] = field(default_factory=dict)


def savings_for(version: BundleVersion, components: list[BundleComponent]) -> dict:
    """减材料、减跑动、减表单、减时限, computed from the catalogue: the same items applied for
    separately versus the bundle."""
    separate_materials = sum(len(c.item_version.materials.all()) for c in components)
    bundle_materials = len(services.routed_materials(version, components))
    separate_visits = sum(c.item_version.visits_required for c in components)
    return {
        "materials": {"separate": separate_materials, "bundle": bundle_materials},
        "visits": {"separate": separate_visits, "bundle": min(1, separate_visits)},
        "forms": {"separate": len(components), "bundle": 1},
        "days": {
            "separate": sum(c.item_version.promised_limit_days or 0 for c in components),
            "bundle": version.promised_limit_days,
        },
    }


def bundle_guide(version: BundleVersion, raw: Mapping[str, Any]) -> Guide:
    questions = list(version.questions.all())
    answers, errors, unanswered = services.read_answers(questions, raw)
    asked = [q for q in questions if q.key in answers or q in unanswered]
    components = services.applicable_components(list(version.components.all()), answers)
    keys = {c.key for c in components}
    upstream: dict[str, list[str]] = {}
    names = {c.key: c.item_version.name for c in components}
    for e in version.edges.all():
        if e.upstream in keys and e.downstream in keys:
            upstream.setdefault(e.downstream, []).append(names[e.upstream])
    savings = savings_for(version, components)
    return Guide(
        version=version,
        answers=answers,
        errors=errors,
        questions=asked,
        complete=not unanswered and not errors,
        components=components,
        materials=services.routed_materials(version, components),
        visits=savings["visits"]["bundle"],
        savings=savings,
        upstream=upstream,
    )


def _children_with_cases() -> Prefetch:
    """The children in graph order with their case and its open supplement notice
    (``case.open_notices``): one query each, however many children."""
    from apps.cases.models import SupplementNotice

    return Prefetch(
        "children",
        queryset=BundleChild.objects.select_related("component__item_version__department", "case")
        .prefetch_related(
            Prefetch(
                "case__supplement_notices",
                queryset=SupplementNotice.objects.filter(fulfilled_at__isnull=True).order_by(
                    "-sequence"
                ),
                to_attr="open_notices",
            )
        )
        .order_by("component__order", "pk"),
    )


def get_application_for(user: Any, application_id: int) -> BundleApplication | None:
    """The applicant's own application (others see nothing)."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        BundleApplication.objects.filter(pk=application_id, applicant_user=user)
        .select_related("version__bundle")
        .prefetch_related("version__edges", _children_with_cases())
        .first()
    )


@dataclass
class ResultRow:
    """One child's result in the 统一出件 section."""

    name: str
    department: str
    case_number: str
    decision: str
    granted: bool
    result_name: str
    licence_name: str
    licence_identifier: str
    delivered: bool


def bundle_results(application: BundleApplication) -> list[ResultRow]:
    """Every decided child's result and licence (from the prefetched children)."""
    rows = []
    for child in application.children.all():
        case = child.case
        if case is None or not case.decision:
            continue
        licence = (case.result_data or {}).get("licence") or {}
        item_version = child.component.item_version
        rows.append(
            ResultRow(
                name=item_version.name,
                department=item_version.department.name,
                case_number=case.number or "",
                decision=case.get_decision_display(),
                granted=services.is_granted(child),
                result_name=item_version.result_name,
                licence_name=str(licence.get("name") or ""),
                licence_identifier=str(licence.get("identifier") or ""),
                delivered=case.status == "delivered",
            )
        )
    return rows


def list_applications_for(user: Any) -> list[BundleApplication]:
    return list(
        BundleApplication.objects.filter(applicant_user=user)
        .select_related("version")
        .order_by("-submitted_at")[:50]
    )


def clerk_department_ids(user: Any) -> list[int]:
    from apps.cases.services import CLERK_ROLES

    if not getattr(user, "is_authenticated", False):
        return []
    return list(
        user.memberships.filter(is_active=True, role__in=CLERK_ROLES).values_list(
            "department_id", flat=True
        )
    )


def list_bundle_queue_for_clerk(user: Any, *, limit: int = 100) -> list[BundleApplication]:
    """Applications in progress with a child in one of the clerk's departments, the most
    urgent (earliest promised date) first."""
    departments = clerk_department_ids(user)
    return list(
        BundleApplication.objects.filter(
            status="in_progress",
            children__component__item_version__department_id__in=departments,
        )
        .distinct()
        .select_related("version")
        .order_by("deadline")[:limit]
    )


def get_application_for_clerk(user: Any, application_id: int) -> BundleApplication | None:
    departments = clerk_department_ids(user)
    return (
        BundleApplication.objects.filter(
            pk=application_id, children__component__item_version__department_id__in=departments
        )
        .distinct()
        .select_related("version", "accepted_by", "results_delivered_by")
        .prefetch_related("version__edges", _children_with_cases())
        .first()
    )


def deadline_colour(application: BundleApplication) -> str:
    """green / yellow (two working days or fewer left) / red (overdue)."""
    from django.utils import timezone

    from apps.core import calendar

    now = timezone.now()
    if application.deadline < now:
        return "red"
    if calendar.count_working_days(now, application.deadline) <= 2:
        return "yellow"
    return "green"


@dataclass
class GraphNode:
    """One component of a bundle application as a department sees it from one child case."""

    key: str
    state: str
    name: str
    department: str
    state_label: str
    waits_on: list[str]  # names of the components it waits on
    feeds: list[str]  # names of the components that wait on it
    waits_on_keys: list[str]
    feeds_keys: list[str]
    is_this_case: bool
    blocking: bool  # an upstream of this case that is not decided yet


@dataclass
class CaseBundleGraph:
    application: BundleApplication
    this_key: str
    nodes: list[GraphNode]
    waiting_on: list[str]  # upstream items this case still waits on (names)


def bundle_graph_for_case(case_id: int) -> CaseBundleGraph | None:
    """Where one child case sits in its bundle's graph (three queries), or None when the case
    is not part of a bundle (one query)."""
    from apps.bundles.constants import ChildState

    child = (
        BundleChild.objects.select_related("application__version", "application__bundle")
        .filter(case_id=case_id)
        .first()
    )
    if child is None:
        return None
    application = child.application
    siblings = list(
        application.children.select_related("component__item_version__department", "case").order_by(
            "component__order", "pk"
        )
    )
    edges = [(e.upstream, e.downstream) for e in application.version.edges.all()]
    by_key = {c.component.key: c for c in siblings}
    names = {k: c.component.item_version.name for k, c in by_key.items()}
    this_key = next(c.component.key for c in siblings if c.pk == child.pk)
    upstream_of_this = {u for u, d in edges if d == this_key and u in by_key}
    nodes = []
    waiting_on = []
    for key, c in by_key.items():
        state = services.effective_state(c)
        blocking = key in upstream_of_this and state != ChildState.DECIDED
        if blocking:
            waiting_on.append(names[key])
        nodes.append(
            GraphNode(
                key=key,
                state=str(state),
                name=names[key],
                department=c.component.item_version.department.name,
                state_label=str(ChildState(state).label),
                waits_on=[names[u] for u, d in edges if d == key and u in names],
                feeds=[names[d] for u, d in edges if u == key and d in names],
                waits_on_keys=[u for u, d in edges if d == key and u in names],
                feeds_keys=[d for u, d in edges if u == key and d in names],
                is_this_case=key == this_key,
                blocking=blocking,
            )
        )
    return CaseBundleGraph(
        application=application, this_key=this_key, nodes=nodes, waiting_on=waiting_on
    )
