"""Writes to core data: the working-day calendar and the demo base data."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core import calendar as working_calendar
from apps.core.exceptions import DomainError
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
    if CalendarYear.objects.filter(year=day.year, is_published=True).exists():
        _recompute_deadlines(year=day.year, actor=actor)
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
    if CalendarYear.objects.filter(year=day.year, is_published=True).exists():
        _recompute_deadlines(year=day.year, actor=actor)
    transaction.on_commit(working_calendar.invalidate_calendar)


@transaction.atomic  # not durable: the admin calls it inside its own transaction
def set_calendar_year(*, year: int, is_published: bool, notice: str, actor: Any) -> CalendarYear:
    """Mark a year's arrangement as entered (or not): switches it off the statutory-holidays
    fallback. Publishing recomputes the open deadlines the arrangement changes."""
    entry, _ = CalendarYear.objects.select_for_update().get_or_create(year=year)
    was_published = entry.is_published
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
    if is_published != was_published:
        _recompute_deadlines(year=year, actor=actor)
    transaction.on_commit(working_calendar.invalidate_calendar)
    return entry


def _recompute_deadlines(*, year: int, actor: Any) -> int:
    """Let every registered app recompute what it derived from the calendar of ``year``, with
    the calendar this transaction now holds. Returns the number of rows changed."""
    with working_calendar.using_fresh_calendar():
        return sum(
            handler(year=year, actor=actor) for handler in working_calendar.arrangement_handlers()
        )


@dataclass(frozen=True)
class ArrangementDay:
    day: date
    kind: str  # DayKind
    name: str


def parse_arrangement(text: str) -> tuple[int, str, list[ArrangementDay]]:
    """Read the dates of a State Council holiday notice in a plain format, one line each::

        # 国务院办公厅关于2027年部分节假日安排的通知
        year 2027
        notice 国办发明电〔2026〕7号
        holiday 2027-01-01 元旦
        holiday 2027-02-05..2027-02-11 春节
        workday 2027-02-14 春节

    ``holiday`` lines are days off (a range ``A..B`` covers every day from A to B), ``workday``
    lines are 调休 working weekends. Raises ``DomainError`` naming the first bad line.
    """
    year: int | None = None
    notice = ""
    days: list[ArrangementDay] = []
    kinds = {"holiday": DayKind.HOLIDAY, "workday": DayKind.WORKDAY}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _sep, rest = line.partition(" ")
        rest = rest.strip()
        try:
            if keyword == "year":
                year = int(rest)
            elif keyword == "notice":
                notice = rest[:200]
            elif keyword in kinds:
                span, _sep, name = rest.partition(" ")
                first_text, _sep, last_text = span.partition("..")
                first = date.fromisoformat(first_text)
                last = date.fromisoformat(last_text) if last_text else first
                if last < first or (last - first).days > 31:
                    raise ValueError(span)
                days += [
                    ArrangementDay(first + timedelta(days=n), kinds[keyword], name.strip()[:32])
                    for n in range((last - first).days + 1)
                ]
            else:
                raise ValueError(keyword)
        except ValueError as exc:
            raise DomainError(
                _("第 %(line)d 行无法识别：%(text)s") % {"line": number, "text": line},
                code="arrangement_invalid",
            ) from exc
    if year is None:
        raise DomainError(_("缺少 year 行"), code="arrangement_invalid")
    if any(entry.day.year != year for entry in days):
        raise DomainError(_("日期不在 %(year)d 年内") % {"year": year}, code="arrangement_invalid")
    if len({entry.day for entry in days}) != len(days):
        raise DomainError(_("同一日期出现多次"), code="arrangement_invalid")
    return year, notice, days


@transaction.atomic(durable=True)
def load_calendar_arrangement(
    *, year: int, notice: str, days: list[ArrangementDay], actor: Any | None
) -> dict[str, int]:
    """Load the State Council's published arrangement for ``year`` (issue 15 §4).

    Replaces the year's holiday and 调休 days with the notice's, marks the year published and
    recomputes, in the same transaction, every open deadline the change moves (each with its
    case event and audit record; the cases app then tells the clerks). Idempotent: loading the
    same notice again changes nothing and recomputes nothing.
    """
    entry, _ = CalendarYear.objects.select_for_update().get_or_create(year=year)
    existing = {
        (day, kind, name)
        for day, kind, name in CalendarDay.objects.filter(date__year=year).values_list(
            "date", "kind", "name"
        )
    }
    wanted = {(d.day, d.kind, d.name) for d in days}
    unchanged = entry.is_published and existing == wanted and entry.notice == notice
    if unchanged:
        return {"days": len(days), "recomputed": 0}
    CalendarDay.objects.filter(date__year=year).delete()
    CalendarDay.objects.bulk_create(
        [
            CalendarDay(date=d.day, kind=d.kind, name=d.name, source=CalendarSource.ADMIN)
            for d in sorted(days, key=lambda d: d.day)
        ]
    )
    entry.is_published = True
    entry.notice = notice
    entry.source = CalendarSource.ADMIN
    entry.full_clean()
    entry.save()
    recomputed = _recompute_deadlines(year=year, actor=actor)
    record_audit_event(
        actor=actor,
        action="calendar.arrangement_loaded",
        obj=entry,
        data={
            "year": year,
            "notice": notice,
            "holidays": sorted(d.day.isoformat() for d in days if d.kind == DayKind.HOLIDAY),
            "workdays": sorted(d.day.isoformat() for d in days if d.kind == DayKind.WORKDAY),
            "deadlines_recomputed": recomputed,
        },
    )
    transaction.on_commit(working_calendar.invalidate_calendar)
    return {"days": len(days), "recomputed": recomputed}


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
