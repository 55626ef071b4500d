"""The SLA clock of a case (DOMAIN.md §0.1, §1.6), as pure functions over working days.

- The promised limit (承诺办结时限) counts working days from acceptance; the acceptance day does
  not count.
- Pauses (the applicant's supplement during review, 听证/检验/鉴定/专家评审 … special procedures)
  do not count: a pause from day P to day R takes the working days in (P, R] off the clock.
- 延长审批 (special procedure type 1) adds working days to the limit.
- The deadline is the end of the last working day.
- Warnings (电子监察 预警): yellow when ``days_left <= CASES_SLA_YELLOW_DAYS`` (default 2), red
  when overdue by at least ``CASES_SLA_RED_OVERDUE_DAYS`` working days (default 0: as soon as
  the deadline has passed); both thresholds are settings (○ in DOMAIN.md: local practice).

All calendar arithmetic goes through ``apps.core.calendar`` (STYLE.md N6).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.utils import timezone

from apps.core import calendar


@dataclass(frozen=True)
class Pause:
    started_at: datetime
    ended_at: datetime | None = None


@dataclass(frozen=True)
class Clock:
    """Everything needed to compute a case's SLA figures."""

    started_at: datetime  # the acceptance moment (or receipt, for Art. 32 deemed acceptance)
    limit_days: int  # promised working days
    extension_days: int = 0
    pauses: tuple[Pause, ...] = ()
    # Working days of pauses already closed and summed (the case row stores this total).
    closed_paused_days: int = 0

    @property
    def total_days(self) -> int:
        return self.limit_days + self.extension_days


def pause_working_days(pause: Pause, now: datetime) -> int:
    end = pause.ended_at or now
    return max(0, calendar.count_working_days(pause.started_at, end))


def paused_days(pauses: Iterable[Pause], now: datetime) -> int:
    return sum(pause_working_days(pause, now) for pause in pauses)


def total_paused_days(clock: Clock, now: datetime) -> int:
    return clock.closed_paused_days + paused_days(clock.pauses, now)


def is_paused(clock: Clock) -> bool:
    return any(pause.ended_at is None for pause in clock.pauses)


def deadline(clock: Clock, now: datetime) -> datetime:
    """End of the last working day of the limit, given the pauses known at ``now``.

    While a pause is open the deadline moves one working day per working day paused, so the
    figure shown is "if the procedure ended today".
    """
    return calendar.working_deadline(
        clock.started_at, clock.total_days + total_paused_days(clock, now)
    )


def days_used(clock: Clock, now: datetime) -> int:
    elapsed = max(0, calendar.count_working_days(clock.started_at, now))
    return max(0, elapsed - total_paused_days(clock, now))


def days_left(clock: Clock, now: datetime) -> int:
    """Working days left; negative when overdue."""
    return clock.total_days - days_used(clock, now)


def yellow_threshold() -> int:
    return int(settings.CASES_SLA_YELLOW_DAYS)


def red_threshold() -> int:
    """Working days a case must be overdue before it turns red (0: once past the deadline)."""
    return max(0, int(settings.CASES_SLA_RED_OVERDUE_DAYS))


def is_red(deadline_at: datetime, now: datetime, *, red_days: int | None = None) -> bool:
    """Past ``deadline_at`` by at least the red threshold in working days."""
    red = red_threshold() if red_days is None else red_days
    if now <= deadline_at:
        return False
    return red == 0 or calendar.count_working_days(deadline_at, now) >= red


def red_cutoff(now: datetime, *, red_days: int | None = None) -> datetime:
    """The latest stored deadline that is red at ``now`` (for queries on the stored deadline):
    ``deadline < now`` when the threshold is 0, else ``deadline <= red_cutoff(now)``."""
    red = red_threshold() if red_days is None else red_days
    if red == 0:
        return now
    day = timezone.localdate(now)
    # Deadlines are ends of days: step back until ``red`` working days lie after the day.
    for _ in range(366):
        day -= timedelta(days=1)
        if calendar.count_working_days(day, now) >= red:
            return calendar.end_of_day(day)
    raise ValueError("red threshold longer than a year")  # pragma: no cover


def warning_level(
    clock: Clock,
    now: datetime,
    *,
    yellow_days: int | None = None,
    red_days: int | None = None,
) -> str | None:
    """``"red"`` when overdue by the red threshold, ``"yellow"`` when few working days are left
    (or overdue, but not yet by the red threshold), else ``None``.

    A paused clock raises no new warning: the time does not count.
    """
    from apps.cases.constants import SlaLevel

    if is_paused(clock):
        return None
    yellow = yellow_threshold() if yellow_days is None else yellow_days
    if is_red(deadline(clock, now), now, red_days=red_days):
        return SlaLevel.RED
    if days_left(clock, now) <= yellow:
        return SlaLevel.YELLOW
    return None


# --- 行政许可法 Art. 32 and supplement deadlines --------------------------------------------


def supplement_notice_deadline(received_at: datetime) -> datetime:
    """The last moment a supplement notice may be issued: 5 days after receipt (Art. 32).

    Counted in working days (Art. 82: 期限以工作日计算); the number is a setting.
    """
    return calendar.working_deadline(received_at, int(settings.CASES_SUPPLEMENT_NOTICE_DAYS))


def supplement_due(issued_at: datetime, days: int, unit: str) -> datetime:
    """The applicant's supplement deadline, in working (``G``) or natural (``Z``) days."""
    from apps.cases.constants import DayUnit

    if unit == DayUnit.WORKING:
        return calendar.working_deadline(issued_at, days)
    return calendar.end_of_day(calendar.add_natural_days(issued_at, days))
