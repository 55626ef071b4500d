"""The rating block on the applicant's case page (registered with apps.cases.hooks)."""

from __future__ import annotations

from typing import Any

from django.template.loader import render_to_string
from django.utils import timezone

from apps.cases.selectors import is_applicant
from apps.reviews import selectors
from apps.reviews.config import rateable_nodes_for
from apps.reviews.constants import RatingSource, ReviewNode
from apps.reviews.services import RATEABLE_CASE_STATES


def case_rating_panel(request: Any, case: Any) -> str:
    if case.status in ReviewNode.values and is_applicant(request.user, case):
        return _node_panel(request, case)
    if case.status not in RATEABLE_CASE_STATES or not is_applicant(request.user, case):
        return ""
    state = selectors.case_rating_state(case)
    ratings = state["ratings"]
    service = state["service"]
    closed = any(r.source == RatingSource.SYSTEM_DEFAULT for r in ratings) or (
        not ratings and service is not None and timezone.now() > service.default_due_at
    )
    return render_to_string(
        "reviews/_case_panel.html",
        {
            "case": case,
            "ratings": ratings,
            "can_rate": not closed and len(ratings) < 2,
            "is_follow_up": len(ratings) == 1,
            "grades": selectors.grade_choices(),
            "indicators": selectors.indicator_form(),
        },
        request=request,
    )


def _node_panel(request: Any, case: Any) -> str:
    """An earlier node the region opens to rating (ReviewPolicy.rateable_nodes): one rating."""
    if case.status not in rateable_nodes_for(case.department.region):
        return ""
    return render_to_string(
        "reviews/_case_node_panel.html",
        {
            "case": case,
            "node": case.status,
            "node_label": ReviewNode(case.status).label,
            "rating": selectors.case_node_rating(case, case.status),
            "grades": selectors.grade_choices(),
            "indicators": selectors.indicator_form(),
        },
        request=request,
    )
