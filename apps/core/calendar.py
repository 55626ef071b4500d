"""Working-day arithmetic (DOMAIN.md §0.1).

Time limits in administrative licensing count working days, excluding statutory holidays;
调休 weekends are working days; **the starting day does not count** (counting begins the next
day). Every SLA computation in govportal goes through this module (STYLE.md N6).

The calendar is the weekday rule plus explicit exceptions (``CalendarDay``) for every year
whose State Council arrangement is known (``CalendarYear.is_published``). A date in a year
that is not known falls back to weekends only; that is logged as a warning and remembered so
the dashboard and ``/healthz`` can show it.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

VERSION_KEY = "core:calendar:version"
FALLBACK_KEY = "core:calendar:fallback_years"
# How long a process trusts its loaded calendar before asking the cache for the version.
_RECHECK_SECONDS = 5.0
# A bound on any single computation: 20 years of working days.
MAX_WORKING_DAYS = 5000


@dataclass(frozen=True)
class WorkingCalendar:
    """An immutable snapshot of the calendar: exceptions to the weekday rule + known years."""

    working_overrides: dict[date, bool] = field(default_factory=dict)
    known_years: frozenset[int] = frozenset()

    def is_known_year(self, year: int) -> bool:
        return year in self.known_years

    def is_working_day(self, day: date) -> bool:
        if day.year not in self.known_years:
            _note_fallback(day.year)
            return day.weekday() < 5
        override = self.working_overrides.get(day)
        if override is not None:
            return override
        return day.weekday() < 5

    def add_working_days(self, start: date, days: int) -> date:
        """The date on which ``days`` working days after ``start`` have elapsed.

        The start day itself never counts. ``days == 0`` returns ``start`` (即办件).
        """
        if days < 0:
            raise ValueError("days must not be negative")
        if days > MAX_WORKING_DAYS:
            raise ValueError("days exceeds MAX_WORKING_DAYS")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def count_working_days(self, start: date, end: date) -> int:
        """Working days in the half-open interval (start, end]; negative when end < start."""
        if end < start:
            return -self.count_working_days(end, start)
        if (end - start).days > MAX_WORKING_DAYS * 2:
            raise ValueError("interval too long")
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count


# --- loading and caching -------------------------------------------------------------------

_lock = threading.Lock()
_state: dict[str, object] = {"calendar": None, "version": None, "checked_at": 0.0}
_warned_years: set[int] = set()


def _load() -> WorkingCalendar:
    from apps.core.models import CalendarDay, CalendarYear, DayKind

    known = frozenset(CalendarYear.objects.filter(is_published=True).values_list("year", flat=True))
    overrides = {
        day: kind == DayKind.WORKDAY
        for day, kind in CalendarDay.objects.values_list("date", "kind")
    }
    return WorkingCalendar(working_overrides=overrides, known_years=known)


def get_calendar() -> WorkingCalendar:
    """The current calendar, reloaded when an admin change bumped the shared version."""
    now = time.monotonic()
    cached = _state["calendar"]
    if cached is not None and now - float(_state["checked_at"]) < _RECHECK_SECONDS:  # type: ignore[arg-type]
        assert isinstance(cached, WorkingCalendar)
        return cached
    version = cache.get(VERSION_KEY, 0)
    with _lock:
        if _state["calendar"] is None or _state["version"] != version:
            _state["calendar"] = _load()
            _state["version"] = version
        _state["checked_at"] = now
        calendar = _state["calendar"]
    assert isinstance(calendar, WorkingCalendar)
    return calendar


def invalidate_calendar() -> None:
    """Make every process reload the calendar (called after any calendar change)."""
    try:
        cache.incr(VERSION_KEY)
    except ValueError:
        cache.set(VERSION_KEY, 1, timeout=None)
    with _lock:
        _state["calendar"] = None
        _state["checked_at"] = 0.0


def _note_fallback(year: int) -> None:
    if year in _warned_years:
        return
    _warned_years.add(year)
    logger.warning(
        "calendar.fallback_weekends_only",
        extra={
            "year": year,
            "hint": "enter the State Council holiday arrangement for this year in the admin",
        },
    )
    years = set(cache.get(FALLBACK_KEY) or [])
    years.add(year)
    cache.set(FALLBACK_KEY, sorted(years), timeout=None)


def fallback_years_used() -> list[int]:
    """Years for which some computation fell back to weekends only."""
    return list(cache.get(FALLBACK_KEY) or [])


def calendar_health(today: date | None = None) -> dict[str, object]:
    """A summary the dashboard and /healthz show: is the calendar ready for this and next year?"""
    today = today or timezone.localdate()
    calendar = get_calendar()
    missing = [y for y in (today.year, today.year + 1) if not calendar.is_known_year(y)]
    return {
        "known_years": sorted(calendar.known_years),
        "missing_years": missing,
        "fallback_years_used": fallback_years_used(),
        # The current year must be known; a missing next year is a warning admins must act on
        # (the State Council usually publishes it in November).
        "current_year_known": calendar.is_known_year(today.year),
    }


# --- public helpers on moments -------------------------------------------------------------


def _local_date(moment: date | datetime) -> date:
    if isinstance(moment, datetime):
        return timezone.localtime(moment).date() if timezone.is_aware(moment) else moment.date()
    return moment


def is_working_day(day: date | datetime) -> bool:
    return get_calendar().is_working_day(_local_date(day))


def add_working_days(moment: date | datetime, days: int) -> date:
    """The day on which ``days`` working days after ``moment`` have elapsed (start day excluded).

    DOMAIN.md worked example: accepted 2026-09-30, 5 working days -> 2026-10-13.
    """
    return get_calendar().add_working_days(_local_date(moment), days)


def working_deadline(moment: date | datetime, days: int) -> datetime:
    """The aware moment a limit of ``days`` working days ends: the end of the last day."""
    last_day = add_working_days(moment, days)
    return end_of_day(last_day)


def end_of_day(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, dtime.max), timezone.get_default_timezone())


def count_working_days(start: date | datetime, end: date | datetime) -> int:
    """Working days elapsed after ``start`` up to and including ``end`` (start day excluded)."""
    return get_calendar().count_working_days(_local_date(start), _local_date(end))


def add_natural_days(moment: date | datetime, days: int) -> date:
    """Limits in natural days (自然日, unit ``Z``) also start counting the next day."""
    return _local_date(moment) + timedelta(days=days)
