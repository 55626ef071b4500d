"""Reads of 好差评 shared by pages, API and tasks (STYLE.md C4)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.db.models import QuerySet, Sum
from django.utils import timezone

from apps.reviews.constants import RECTIFIED_STATES, ChannelKind, Dimension, Grade
from apps.reviews.models import (
    IndicatorSet,
    Rating,
    RectificationTicket,
    ReviewRollup,
    ServiceRecord,
)


def case_rating_state(case: Any) -> dict[str, Any]:
    """What the case page shows: the ratings of the case so far (at most two)."""
    service = ServiceRecord.objects.filter(case_id=case.pk).first()
    ratings = list(service.ratings.order_by("sequence")) if service else []
    return {"service": service, "ratings": ratings}


def case_node_rating(case: Any, node: str) -> Rating | None:
    """The applicant's rating of an earlier node of the case, if any."""
    return Rating.objects.filter(service__node_case_id=case.pk, service__node=node).first()


def indicator_form(kind: str = ChannelKind.ONLINE) -> list[dict[str, Any]]:
    """The active indicator set of ``kind`` as [{indicator, good: [...], bad: [...]}]."""
    indicator_set = (
        IndicatorSet.objects.filter(kind=kind, is_active=True)
        .prefetch_related("indicators__options")
        .first()
    )
    if indicator_set is None:
        return []
    return [
        {
            "indicator": indicator,
            "good": [o for o in indicator.options.all() if not o.is_bad_reason],
            "bad": [o for o in indicator.options.all() if o.is_bad_reason],
        }
        for indicator in indicator_set.indicators.all()
    ]


def grade_choices() -> list[tuple[str, str]]:
    return list(Grade.choices)


def ratings_of_service(service: ServiceRecord) -> QuerySet[Rating]:
    return service.ratings.order_by("sequence")


# --- statistics (read the rollups only; never the ratings) -----------------------------------


@dataclass(frozen=True)
class Figures:
    """The metrics of one (dimension, key) over some months (definitions: docs/reviews.md)."""

    services: int = 0
    ratings: int = 0
    defaults: int = 0
    grades: tuple[int, int, int, int, int] = (0, 0, 0, 0, 0)  # A.8 order: 非常满意 … 非常不满意
    score_sum: int = 0
    tickets: int = 0
    followed_up: int = 0
    rectified: int = 0
    rectified_on_time: int = 0
    appeals_decided: int = 0
    appeals_upheld: int = 0

    @staticmethod
    def _rate(part: int, whole: int) -> float | None:
        return round(100.0 * part / whole, 1) if whole else None

    @property
    def good(self) -> int:
        return sum(self.grades[:3])

    @property
    def bad(self) -> int:
        return sum(self.grades[3:])

    @property
    def active_rate(self) -> float | None:  # 主动评价率
        return self._rate(self.ratings, self.services)

    @property
    def good_rate(self) -> float | None:  # 好评率
        return self._rate(self.good, self.ratings)

    @property
    def bad_rate(self) -> float | None:  # 差评率
        return self._rate(self.bad, self.ratings)

    @property
    def average_score(self) -> float | None:
        return round(self.score_sum / self.ratings, 2) if self.ratings else None

    @property
    def rectification_rate(self) -> float | None:  # 差评整改率
        return self._rate(self.rectified, self.tickets)

    @property
    def on_time_rate(self) -> float | None:  # 按期整改率
        return self._rate(self.rectified_on_time, self.rectified)

    @property
    def follow_up_rate(self) -> float | None:  # 回访率
        return self._rate(self.followed_up, self.tickets)

    @property
    def appeal_upheld_rate(self) -> float | None:  # 申诉成立率
        return self._rate(self.appeals_upheld, self.appeals_decided)


def _figures(rows: Iterable[dict[str, Any]]) -> Figures:
    total: dict[str, int] = dict.fromkeys(ReviewRollup.COUNTERS, 0)
    for row in rows:
        for name in ReviewRollup.COUNTERS:
            total[name] += row[name] or 0
    grades = tuple(total.pop(f"grade_{n}") for n in range(1, 6))
    return Figures(grades=grades, **total)  # type: ignore[arg-type]


def _sums() -> dict[str, Sum]:
    return {name: Sum(name) for name in ReviewRollup.COUNTERS}


def last_periods(months: int = 12, *, today: date | None = None) -> list[str]:
    """The last ``months`` statistics periods (YYYY-MM), oldest first, this month last."""
    today = today or timezone.localdate()
    year, month = today.year, today.month
    periods = []
    for _ in range(months):
        periods.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return periods[::-1]


def figures_for(
    *, dimension: str = Dimension.TOTAL, key: str = "", periods: Sequence[str]
) -> Figures:
    """One aggregate query over at most ``len(periods)`` rollup rows."""
    row = ReviewRollup.objects.filter(
        dimension=dimension, key=key, period__in=list(periods)
    ).aggregate(**_sums())
    return _figures([row])


def monthly_figures(
    *, dimension: str = Dimension.TOTAL, key: str = "", periods: Sequence[str]
) -> list[tuple[str, Figures]]:
    """Per month, oldest first (one query)."""
    rows = {
        r.period: r
        for r in ReviewRollup.objects.filter(dimension=dimension, key=key, period__in=list(periods))
    }
    return [
        (p, _figures([{n: getattr(rows[p], n) for n in ReviewRollup.COUNTERS}]))
        if p in rows
        else (p, Figures())
        for p in periods
    ]


def ranking(
    *, dimension: str, periods: Sequence[str], keys: Sequence[str] | None = None
) -> list[tuple[str, Figures]]:
    """Every key of ``dimension`` with its figures, best average score first (one query)."""
    queryset = ReviewRollup.objects.filter(dimension=dimension, period__in=list(periods))
    if keys is not None:
        queryset = queryset.filter(key__in=list(keys))
    rows = queryset.values("key").annotate(**_sums()).order_by("key")
    ranked = [(row["key"], _figures([row])) for row in rows]
    ranked.sort(key=lambda kf: (-(kf[1].average_score or 0), -kf[1].ratings, kf[0]))
    return ranked


def rectified_bad_reviews(*, limit: int = 20) -> QuerySet[RectificationTicket]:
    """Public: closed or awaiting-feedback tickets (what was wrong, what was done). Only the
    columns the page shows are loaded; the rater is never selected."""
    return (
        RectificationTicket.objects.filter(status__in=list(RECTIFIED_STATES))
        .exclude(rating__is_excluded=True)
        .select_related("department", "rating__service")
        .only(
            "pk",
            "status",
            "finding",
            "measures",
            "result",
            "rectified_at",
            "department__name",
            "rating__grade",
            "rating__options",
            "rating__comment",
            "rating__moderation",
            "rating__service__item_name",
            "rating__service__summary",
        )
        .order_by("-rectified_at", "-pk")[:limit]
    )


def named_ranking(*, dimension: str, periods: Sequence[str], limit: int = 10) -> list[dict]:
    """A ranking with display names (two queries: the rollups, then the names)."""
    from apps.core.models import Department, ServiceHall, ServiceWindow

    ranked = [(k, f) for k, f in ranking(dimension=dimension, periods=periods) if f.ratings]
    ranked = ranked[:limit]
    models_by_dimension: dict[str, Any] = {
        Dimension.DEPARTMENT: Department,
        Dimension.HALL: ServiceHall,
        Dimension.WINDOW: ServiceWindow,
    }
    model = models_by_dimension.get(dimension)
    names: dict[str, str] = {}
    if model is not None:
        ids = [int(k) for k, _ in ranked if k.isdigit()]
        if model is ServiceWindow:
            names = {
                str(w.pk): f"{w.hall.name} {w.number}号窗口"
                for w in model.objects.filter(pk__in=ids).select_related("hall")
            }
        else:
            names = {
                str(pk): name
                for pk, name in model.objects.filter(pk__in=ids).values_list("pk", "name")
            }
    return [
        {"rank": i, "key": k, "name": names.get(k, k), "figures": f}
        for i, (k, f) in enumerate(ranked, start=1)
    ]


# --- office scoping -------------------------------------------------------------------------


def ticket_department_ids(user: Any) -> list[int]:
    """Departments whose tickets ``user`` works on."""
    from apps.reviews.permissions import TICKET_ROLES, _active_memberships

    return sorted({m.department_id for m in _active_memberships(user) if m.role in TICKET_ROLES})


def supervised_department_ids(user: Any) -> list[int]:
    """Departments in the regions of the user's 政务服务管理机构 memberships."""
    from django.db.models import Q

    from apps.core.models import Department
    from apps.reviews.permissions import authority_region_prefixes

    prefixes = authority_region_prefixes(user)
    if not prefixes:
        return []
    condition = Q()
    for prefix in prefixes:
        condition |= Q(region__code__startswith=prefix)
    return list(Department.objects.filter(condition).values_list("pk", flat=True))


def visible_department_ids(user: Any) -> list[int]:
    return sorted({*ticket_department_ids(user), *supervised_department_ids(user)})


def list_tickets_for(user: Any, *, status: str = "") -> QuerySet[RectificationTicket]:
    queryset = RectificationTicket.objects.filter(
        department_id__in=visible_department_ids(user)
    ).select_related("department", "rating__service")
    if status:
        queryset = queryset.filter(status=status)
    return queryset.order_by("rectify_due", "pk")


def get_ticket_for(user: Any, ticket_id: int) -> RectificationTicket:
    from django.http import Http404

    ticket = (
        list_tickets_for(user)
        .select_related("rating__indicator_set")
        .prefetch_related("follow_ups", "appeals__evidence_files")
        .filter(pk=ticket_id)
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def get_appeal_evidence_for(user: Any, evidence_id: int) -> Any:
    """An appeal's evidence file, for the responsible department and the supervising
    政务服务管理机构 only (never the rater); ``Http404`` for anyone else."""
    from django.http import Http404

    from apps.reviews.models import AppealEvidence

    evidence = (
        AppealEvidence.objects.filter(
            pk=evidence_id, appeal__ticket__department_id__in=visible_department_ids(user)
        )
        .only("pk", "file", "original_name", "content_type")
        .first()
    )
    if evidence is None:
        raise Http404
    return evidence


def list_held_ratings_for(user: Any) -> QuerySet[Rating]:
    """Comments held by the word list, in the departments the user supervises as a member of a
    政务服务管理机构 (never the user's own department), oldest first. No rater data is loaded."""
    from apps.reviews.constants import ModerationStatus

    return (
        Rating.objects.filter(
            moderation=ModerationStatus.HELD,
            service__department_id__in=supervised_department_ids(user),
        )
        .exclude(service__department_id__in=ticket_department_ids(user))
        .select_related("service__department")
        .defer("rater")
        .order_by("created_at", "pk")
    )


def list_pending_appeals_for(user: Any) -> QuerySet:
    from apps.reviews.constants import AppealStatus
    from apps.reviews.models import Appeal

    return (
        Appeal.objects.filter(
            status=AppealStatus.PENDING,
            ticket__department_id__in=supervised_department_ids(user),
        )
        .exclude(ticket__department_id__in=ticket_department_ids(user))
        .select_related("ticket__department", "ticket__rating__service")
        .order_by("created_at")
    )


def get_feedback_ticket_for(user: Any, ticket_id: int) -> RectificationTicket:
    """The rater's own ticket (the feedback page)."""
    from django.http import Http404

    ticket = (
        RectificationTicket.objects.select_related("department", "rating__service")
        .filter(pk=ticket_id, rating__rater_id=getattr(user, "pk", None))
        .first()
    )
    if ticket is None:
        raise Http404
    return ticket


def department_names(department_ids: Sequence[int]) -> list[tuple[str, str]]:
    from apps.core.models import Department

    return [
        (str(pk), name)
        for pk, name in Department.objects.filter(pk__in=list(department_ids))
        .order_by("name")
        .values_list("pk", "name")
    ]
