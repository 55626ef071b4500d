"""The time limits in force for a region (DOMAIN.md §2.4–2.5, all configurable ○)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings

from apps.core.models import Region
from apps.reviews.models import ReviewPolicy


@dataclass(frozen=True)
class Policy:
    default_after_days: int
    default_grade: str
    callback_days: int
    rectify_days: int
    appeal_days: int
    feedback_days: int = 7
    rateable_nodes: tuple[str, ...] = ()


def default_policy() -> Policy:
    return Policy(
        default_after_days=settings.REVIEWS_DEFAULT_AFTER_DAYS,
        default_grade=settings.REVIEWS_DEFAULT_GRADE,
        callback_days=settings.REVIEWS_CALLBACK_DAYS,
        rectify_days=settings.REVIEWS_RECTIFY_DAYS,
        appeal_days=settings.REVIEWS_APPEAL_DAYS,
        feedback_days=settings.REVIEWS_FEEDBACK_DAYS,
        rateable_nodes=tuple(settings.REVIEWS_RATEABLE_NODES),
    )


def region_path(region: Region) -> list[Region]:
    """The region and its ancestors, nearest first (at most five levels)."""
    path = [region]
    while path[-1].parent_id is not None and len(path) < 6:
        path.append(Region.objects.get(pk=path[-1].parent_id))
    return path


def policy_for(region: Region) -> Policy:
    """The policy of the nearest region up the tree that has one, else the settings."""
    path = region_path(region)
    rows = {p.region_id: p for p in ReviewPolicy.objects.filter(region__in=path)}
    for node in path:
        row = rows.get(node.pk)
        if row is not None:
            return Policy(
                default_after_days=row.default_after_days,
                default_grade=row.default_grade,
                callback_days=row.callback_days,
                rectify_days=row.rectify_days,
                appeal_days=row.appeal_days,
                feedback_days=row.feedback_days,
                rateable_nodes=tuple(row.rateable_nodes or ()),
            )
    return default_policy()


def rateable_nodes_for(region: Region) -> tuple[str, ...]:
    """The earlier case nodes open to rating in ``region``: one query while no region has a
    policy of its own (the case page asks this on every visit of a case at such a node)."""
    if not ReviewPolicy.objects.exists():
        return tuple(settings.REVIEWS_RATEABLE_NODES)
    return policy_for(region).rateable_nodes
