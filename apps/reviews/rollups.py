"""Incremental statistics (DOMAIN.md §2.6): counters per (dimension, key, month).

Every write that changes what the statistics count computes the *contribution* of the rows it
touches before and after the change and adds the difference to the rollup rows, in the same
transaction (``apply_change``). A page then reads at most one row per key and month: the cost
does not grow with the number of ratings.

Contributions (the definitions the docs and the pages state):

* a service (completed case or window service): ``services`` 1;
* a rating that counts (the current one of its service — a follow-up supersedes the first —
  and not excluded by an upheld appeal): a system default adds ``defaults`` 1 only; a rater's
  rating adds ``ratings`` 1, ``grade_<A.8 code>`` 1 and ``score_sum`` its 5-point score;
* a ticket whose rating is not excluded: ``tickets`` 1, ``followed_up`` 1 once a follow-up is
  recorded, ``rectified`` 1 once measures and result are in, ``rectified_on_time`` 1 when that
  happened by the rectification deadline;
* an appeal: ``appeals_decided`` 1 once decided, ``appeals_upheld`` 1 if upheld (the upheld
  appeal's rating and ticket leave the other counters).

Every fact is counted in the month the service was completed (``ServiceRecord.period``), under
the service's region (and every ancestor), department, item, hall, window and staff member;
ratings, tickets and appeals also under the rating's channel.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from django.db import connection
from django.utils import timezone

from apps.reviews.constants import (
    GB_CODE,
    RECTIFIED_STATES,
    SCORE,
    AppealStatus,
    Dimension,
    RatingSource,
)
from apps.reviews.models import Appeal, Rating, RectificationTicket, ReviewRollup, ServiceRecord

Key = tuple[str, str]


def service_keys(service: ServiceRecord) -> list[Key]:
    keys: list[Key] = [(Dimension.TOTAL, ""), (Dimension.DEPARTMENT, str(service.department_id))]
    keys += [(Dimension.REGION, code) for code in service.region_path.split(",") if code]
    if service.item_code:
        keys.append((Dimension.ITEM, service.item_code))
    if service.hall_id:
        keys.append((Dimension.HALL, str(service.hall_id)))
    if service.window_id:
        keys.append((Dimension.WINDOW, str(service.window_id)))
    if service.staff_id:
        keys.append((Dimension.STAFF, str(service.staff_id)))
    return keys


def rating_keys(service: ServiceRecord, channel: str) -> list[Key]:
    return [*service_keys(service), (Dimension.CHANNEL, channel)]


def service_contribution(service: ServiceRecord) -> Counter[str]:
    return Counter(services=1)


def rating_contribution(rating: Rating) -> Counter[str]:
    if not rating.is_current or rating.is_excluded:
        return Counter()
    if rating.source == RatingSource.SYSTEM_DEFAULT:
        return Counter(defaults=1)
    return Counter(
        {"ratings": 1, f"grade_{GB_CODE[rating.grade]}": 1, "score_sum": SCORE[rating.grade]}
    )


def ticket_contribution(ticket: RectificationTicket, *, rating_excluded: bool) -> Counter[str]:
    if rating_excluded:
        return Counter()
    counts = Counter(tickets=1)
    if ticket.first_follow_up_at is not None:
        counts["followed_up"] = 1
    if ticket.status in RECTIFIED_STATES:
        counts["rectified"] = 1
        if ticket.is_rectified_on_time:
            counts["rectified_on_time"] = 1
    return counts


def appeal_contribution(appeal: Appeal) -> Counter[str]:
    if appeal.status == AppealStatus.PENDING:
        return Counter()
    counts = Counter(appeals_decided=1)
    if appeal.status == AppealStatus.UPHELD:
        counts["appeals_upheld"] = 1
    return counts


def apply_change(
    keys: Iterable[Key], period: str, before: Counter[str], after: Counter[str]
) -> None:
    """Add ``after - before`` to the rollup rows of ``keys`` in ``period`` (one upsert)."""
    delta = {
        name: after.get(name, 0) - before.get(name, 0)
        for name in ReviewRollup.COUNTERS
        if after.get(name, 0) != before.get(name, 0)
    }
    if not delta:
        return
    # Sorted keys: concurrent transactions lock the rows in the same order (no deadlock).
    rows = sorted(set(keys))
    table = connection.ops.quote_name(ReviewRollup._meta.db_table)
    names = list(delta)
    columns = ["dimension", "key", "period", *names, "created_at", "updated_at"]
    zero_columns = [c for c in ReviewRollup.COUNTERS if c not in delta]
    columns += zero_columns
    placeholders = "(" + ", ".join(["%s"] * len(columns)) + ")"
    now = timezone.now()
    params: list[object] = []
    for dimension, key in rows:
        params += [dimension, key, period, *(delta[n] for n in names), now, now]
        params += [0] * len(zero_columns)
    updates = ", ".join(f"{n} = {table}.{n} + excluded.{n}" for n in names)
    # Every identifier comes from ReviewRollup.COUNTERS (code, not input); values are params.
    values = ", ".join([placeholders] * len(rows))
    sql = (
        f"INSERT INTO {table} ({', '.join(columns)}) VALUES {values}"  # noqa: S608
        f" ON CONFLICT (dimension, key, period) DO UPDATE SET {updates},"
        " updated_at = excluded.updated_at"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
