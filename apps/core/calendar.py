"""Working-day arithmetic (DOMAIN.md §0.1).

Time limits in administrative licensing count working days, excluding statutory holidays;
调休 weekends are working days; **the starting day does not count** (counting begins the next
day). Every SLA computation in govportal goes through this module (STYLE.md N6).

The calendar is the weekday rule plus explicit exceptions (``CalendarDay``) for every year
whose State Council arrangement is known (``CalendarYear.is_published``). A date in a year
that is not known yet falls back to the statutory holidays of 《全国年节及纪念日放假办法》
(2025 revision, ``statutory_holidays``) on top of the weekends, without the 调休 swaps only the
State Council's notice can say. Such a computation is *provisional*: it is logged as a warning
and remembered so the dashboard and ``/healthz`` can show it, deadlines reaching such a year
are marked provisional (``is_provisional_span``), and loading the published arrangement
recomputes them (``apps.core.services.load_calendar_arrangement``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from functools import lru_cache

from chinese_calendar import get_solar_terms
from lunardate import LunarDate

from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)

VERSION_KEY = "core:calendar:version"
FALLBACK_KEY = "core:calendar:fallback_years"
# How long a process trusts its loaded calendar before asking the cache for the version.
_RECHECK_SECONDS = 5.0
# A bound on any single computation: 20 years of working days.
MAX_WORKING_DAYS = 5000


# Years the lunar tables of ``lunardate`` cover.
STATUTORY_YEARS = (1900, 2099)


@lru_cache(maxsize=64)
def statutory_holidays(year: int) -> dict[date, str]:
    """The days off 《全国年节及纪念日放假办法》 (State Council, 2025 revision, Art. 2) gives
    everyone in ``year``: 元旦 1 day, 春节 4 days (除夕 to 正月初三), 清明 1 day (the 清明 solar
    term), 劳动节 2 days (1–2 May), 端午 1 day (五月初五), 中秋 1 day (八月十五), 国庆 3 days
    (1–3 October). Lunar dates come from ``lunardate``, the solar term from ``chinese-calendar``.

    This is the law's floor, not the year's arrangement: the State Council's annual notice adds
    bridging days and 调休 working weekends, which no rule can predict.
    """
    if not STATUTORY_YEARS[0] <= year <= STATUTORY_YEARS[1]:
        # Outside the lunar tables (1900–2099): no deadline of a living case gets here; a
        # calculator request does, and gets weekends only rather than an error.
        return {}
    days: dict[date, str] = {date(year, 1, 1): "元旦"}
    new_year = LunarDate(year, 1, 1).to_solar_date()
    for offset in range(-1, 3):  # 除夕, 正月初一, 初二, 初三
        days[new_year + timedelta(days=offset)] = "春节"
    qingming = [
        d for d, name in get_solar_terms(date(year, 4, 1), date(year, 4, 30)) if name == "清明"
    ]
    days[qingming[0]] = "清明节"
    days[date(year, 5, 1)] = days[date(year, 5, 2)] = "劳动节"
    days[LunarDate(year, 5, 5).to_solar_date()] = "端午节"
    days[LunarDate(year, 8, 15).to_solar_date()] = "中秋节"
    for day in (1, 2, 3):
        days[date(year, 10, day)] = "国庆节"
    return dict(sorted(days.items()))


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
            return day.weekday() < 5 and day not in statutory_holidays(day.year)
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


_override = threading.local()


@contextmanager
def using_fresh_calendar() -> Iterator[WorkingCalendar]:
    """Inside a transaction that changed the calendar tables: compute with what this
    transaction sees (this thread only), without touching the shared cached calendar, which
    other processes must not reload before the change commits."""
    calendar = _load()
    _override.calendar = calendar
    try:
        yield calendar
    finally:
        _override.calendar = None


def get_calendar() -> WorkingCalendar:
    """The current calendar, reloaded when an admin change bumped the shared version."""
    overridden = getattr(_override, "calendar", None)
    if overridden is not None:
        assert isinstance(overridden, WorkingCalendar)
        return overridden
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
        "calendar.fallback_statutory_holidays",
        extra={
            "year": year,
            "hint": "load the State Council holiday arrangement for this year "
            "(manage.py load_holiday_arrangement or the admin)",
        },
    )
    years = set(cache.get(FALLBACK_KEY) or [])
    years.add(year)
    cache.set(FALLBACK_KEY, sorted(years), timeout=None)


def is_provisional_span(start: date | datetime, end: date | datetime) -> bool:
    """Whether a computation from ``start`` to ``end`` used a year whose arrangement is not
    published yet (statutory holidays only): its result may move when the notice is loaded."""
    calendar = get_calendar()
    first, last = sorted((_local_date(start), _local_date(end)))
    return any(not calendar.is_known_year(y) for y in range(first.year, last.year + 1))


# --- what recomputes when an arrangement is loaded ------------------------------------------
#
# Apps whose stored deadlines came from the calendar register a handler here in their
# ``AppConfig.ready()`` (STYLE.md L5; no signals). ``load_calendar_arrangement`` calls each one
# inside its transaction with the year loaded and the acting user; a handler returns how many
# rows it recomputed.
_arrangement_handlers: list[Callable[..., int]] = []


def register_arrangement_handler(handler: Callable[..., int]) -> None:
    if handler not in _arrangement_handlers:
        _arrangement_handlers.append(handler)


def arrangement_handlers() -> list[Callable[..., int]]:
    return list(_arrangement_handlers)


def fallback_years_used() -> list[int]:
    """Years for which some computation fell back to the statutory holidays alone."""
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
        # Until then deadlines reaching a missing year count its statutory holidays only and
        # are shown as provisional.
        "fallback": "statutory_holidays",
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
