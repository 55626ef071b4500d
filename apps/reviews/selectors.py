"""Reads of 好差评 shared by pages, API and tasks (STYLE.md C4)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from apps.reviews.constants import ChannelKind, Grade
from apps.reviews.models import IndicatorSet, Rating, ServiceRecord


def case_rating_state(case: Any) -> dict[str, Any]:
    """What the case page shows: the ratings of the case so far (at most two)."""
    service = ServiceRecord.objects.filter(case_id=case.pk).first()
    ratings = list(service.ratings.order_by("sequence")) if service else []
    return {"service": service, "ratings": ratings}


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
