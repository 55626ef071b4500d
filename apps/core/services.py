"""Writes to core data: the working-day calendar and the demo base data."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.audit.services import record_audit_event
from apps.core import calendar as working_calendar
from apps.core.models import CalendarDay, CalendarSource, CalendarYear, DayKind

logger = logging.getLogger(__name__)

# chinese-calendar names holidays in English; the calendar shows the Chinese names.
HOLIDAY_NAMES = {
    "New Year's Day": "元旦",
    "Spring Festival": "春节",
    "Tomb-sweeping Day": "清明节",
    "Labour Day": "劳动节",
    "Dragon Boat Festival": "端午节",
    "National Day": "国庆节",
    "Mid-autumn Festival": "中秋节",
    "Anti-Fascist 70th Day": "抗战胜利70周年纪念日",
}


def _package_days() -> tuple[dict[date, tuple[str, str]], set[int]]:
    from chinese_calendar import constants

    days: dict[date, tuple[str, str]] = {}
    for day, name in constants.holidays.items():
        days[day] = (DayKind.HOLIDAY, HOLIDAY_NAMES.get(str(name), str(name)))
    for day, name in constants.workdays.items():
        days[day] = (DayKind.WORKDAY, HOLIDAY_NAMES.get(str(name), str(name)))
    years = {day.year for day in constants.holidays}
    return days, years


@transaction.atomic(durable=True)
def seed_calendar(*, first_year: int, actor: Any | None = None) -> dict[str, int]:
    """Load the holidays and 调休 days that ``chinese-calendar`` knows into the calendar tables.

    Idempotent. Never overwrites a day or a year an administrator entered or changed.
    """
    days, years = _package_days()
    years = {year for year in years if year >= first_year}
    # Days already present (whether seeded or entered by an administrator) are left alone.
    existing = set(CalendarDay.objects.values_list("date", flat=True))
    new_days = [
        CalendarDay(date=day, kind=kind, name=name, source=CalendarSource.CHINESE_CALENDAR)
        for day, (kind, name) in sorted(days.items())
        if day.year in years and day not in existing
    ]
    CalendarDay.objects.bulk_create(new_days)
    known_years = set(CalendarYear.objects.values_list("year", flat=True))
    new_years = [
        CalendarYear(
            year=year,
            is_published=True,
            source=CalendarSource.CHINESE_CALENDAR,
            notice="国务院办公厅放假安排（chinese-calendar 数据包）",
        )
        for year in sorted(years - known_years)
    ]
    CalendarYear.objects.bulk_create(new_years)
    if new_days or new_years:
        record_audit_event(
            actor=actor,
            action="calendar.seeded",
            object_type="core.calendar",
            data={"days": len(new_days), "years": [y.year for y in new_years]},
        )
        transaction.on_commit(working_calendar.invalidate_calendar)
    return {"days": len(new_days), "years": len(new_years)}


@transaction.atomic  # not durable: the admin calls it inside its own transaction
def set_calendar_day(*, day: date, kind: str, name: str, actor: Any) -> CalendarDay:
    """Enter or change one holiday / 调休 day (e.g. next year's State Council notice)."""
    entry, created = CalendarDay.objects.select_for_update().get_or_create(
        date=day, defaults={"kind": kind, "name": name, "source": CalendarSource.ADMIN}
    )
    before = None if created else {"kind": entry.kind, "name": entry.name}
    entry.kind, entry.name, entry.source = kind, name, CalendarSource.ADMIN
    entry.full_clean()
    entry.save()
    record_audit_event(
        actor=actor,
        action="calendar.day_set",
        obj=entry,
        data={"date": day.isoformat(), "kind": kind, "name": name, "before": before},
    )
    transaction.on_commit(working_calendar.invalidate_calendar)
    return entry


@transaction.atomic  # not durable: the admin calls it inside its own transaction
def delete_calendar_day(*, day: date, actor: Any) -> None:
    entry = CalendarDay.objects.select_for_update().filter(date=day).first()
    if entry is None:
        return
    record_audit_event(
        actor=actor,
        action="calendar.day_deleted",
        obj=entry,
        data={"date": day.isoformat(), "kind": entry.kind, "name": entry.name},
    )
    entry.delete()
    transaction.on_commit(working_calendar.invalidate_calendar)


@transaction.atomic  # not durable: the admin calls it inside its own transaction
def set_calendar_year(*, year: int, is_published: bool, notice: str, actor: Any) -> CalendarYear:
    """Mark a year's arrangement as entered (or not): switches it off the weekends-only fallback."""
    entry, _ = CalendarYear.objects.select_for_update().get_or_create(year=year)
    entry.is_published = is_published
    entry.notice = notice
    entry.source = CalendarSource.ADMIN
    entry.full_clean()
    entry.save()
    record_audit_event(
        actor=actor,
        action="calendar.year_set",
        obj=entry,
        data={"year": year, "is_published": is_published, "notice": notice},
    )
    transaction.on_commit(working_calendar.invalidate_calendar)
    return entry


def check_calendar(*, first_year: int) -> dict[str, object]:
    """Nightly: seed what the package knows and warn when next year is still unknown."""
    seed_calendar(first_year=first_year)
    health = working_calendar.calendar_health(timezone.localdate())
    if health["missing_years"]:
        logger.warning(
            "calendar.year_missing",
            extra={
                "missing_years": health["missing_years"],
                "hint": "enter the State Council holiday arrangement in the admin",
            },
        )
    return health
