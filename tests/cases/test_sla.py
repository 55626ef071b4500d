"""SLA clock arithmetic (DOMAIN.md §0.1, §1.6) on the seeded 2026 calendar."""

from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django.utils import timezone

from apps.cases import sla
from apps.cases.constants import DayUnit, SlaLevel
from apps.core import calendar
from apps.core.services import seed_calendar

pytestmark = pytest.mark.django_db


def at(y: int, m: int, d: int, hh: int = 10, mm: int = 0) -> datetime:
    return timezone.make_aware(datetime(y, m, d, hh, mm))


@pytest.fixture(autouse=True)
def seeded() -> None:
    seed_calendar(first_year=2020)
    calendar.invalidate_calendar()


def test_domain_worked_example_national_day() -> None:
    # given accepted Wed 2026-09-30 with 5 working days promised
    clock = sla.Clock(started_at=at(2026, 9, 30), limit_days=5)
    # then the deadline is the end of Tue 2026-10-13 (10-10 Saturday is a 调休 working day)
    assert timezone.localtime(sla.deadline(clock, at(2026, 9, 30))).date() == date(2026, 10, 13)


def test_national_day_with_supplement_pause_in_the_middle() -> None:
    # given accepted Thu 2026-09-24 with 10 working days promised
    #   working days after acceptance: 09-25 Fri is a holiday (中秋 09-25..27), 09-28 (1),
    #   09-29 (2), 09-30 (3), National Day 10-01..07, 10-08 (4), 10-09 (5), 10-10 Sat 调休 (6) ...
    # and the clock paused for the applicant's supplement from 09-29 to 10-09:
    #   paused working days in (09-29, 10-09] = 09-30, 10-08, 10-09 = 3
    pause = sla.Pause(started_at=at(2026, 9, 29, 15), ended_at=at(2026, 10, 9, 11))
    clock = sla.Clock(started_at=at(2026, 9, 24), limit_days=10, pauses=(pause,))
    now = at(2026, 10, 9, 12)
    # then 10 + 3 = 13 working days from 09-24:
    #   09-28 1, 09-29 2, 09-30 3, 10-08 4, 10-09 5, 10-10 6, 10-12 7, 10-13 8, 10-14 9,
    #   10-15 10, 10-16 11, 10-19 12, 10-20 13
    assert timezone.localtime(sla.deadline(clock, now)).date() == date(2026, 10, 20)
    # and the working days used are 09-28 and 09-29 only (2), 8 left
    assert sla.days_used(clock, now) == 2
    assert sla.days_left(clock, now) == 8
    assert sla.warning_level(clock, now) is None


def test_open_pause_freezes_days_used_and_raises_no_warning() -> None:
    # given a 3-day clock that started Mon 2026-11-02 and was paused on Wed 11-04
    pause = sla.Pause(started_at=at(2026, 11, 4))
    clock = sla.Clock(started_at=at(2026, 11, 2), limit_days=3, pauses=(pause,))
    # when a week passes
    now = at(2026, 11, 11)
    # then the used days stay at 2 (11-03, 11-04) and no warning is raised while paused
    assert sla.days_used(clock, now) == 2
    assert sla.is_paused(clock)
    assert sla.warning_level(clock, now) is None


@pytest.mark.parametrize(
    ("_case", "now", "expected"),
    [
        ("plenty_left", at(2026, 11, 3), None),
        ("two_left_yellow", at(2026, 11, 6), SlaLevel.YELLOW),
        ("last_day_yellow", at(2026, 11, 10, 23, 59), SlaLevel.YELLOW),
        ("overdue_red", at(2026, 11, 11, 0, 1), SlaLevel.RED),
    ],
)
def test_warning_levels(_case: str, now: datetime, expected: str | None) -> None:
    # given accepted Mon 2026-11-02 with 6 working days: deadline end of Tue 11-10
    clock = sla.Clock(started_at=at(2026, 11, 2), limit_days=6)
    assert sla.warning_level(clock, now) == expected


def test_yellow_threshold_is_configurable(settings) -> None:
    clock = sla.Clock(started_at=at(2026, 11, 2), limit_days=6)
    settings.CASES_SLA_YELLOW_DAYS = 4
    # 11-04: used 2 (11-03, 11-04), left 4 -> yellow with a threshold of 4
    assert sla.warning_level(clock, at(2026, 11, 4)) == SlaLevel.YELLOW


def test_extension_adds_working_days() -> None:
    clock = sla.Clock(started_at=at(2026, 9, 30), limit_days=5, extension_days=10)
    # 10-13 is day 5; ten more working days: 10-14 .. 10-27
    assert timezone.localtime(sla.deadline(clock, at(2026, 10, 1))).date() == date(2026, 10, 27)


def test_article_32_notice_window_across_national_day() -> None:
    # given materials received on Tue 2026-09-29
    # then a supplement notice is due by the end of the 5th working day:
    #   09-30 1, 10-08 2, 10-09 3, 10-10 (调休) 4, 10-12 5
    deadline = sla.supplement_notice_deadline(at(2026, 9, 29))
    assert timezone.localtime(deadline).date() == date(2026, 10, 12)


@pytest.mark.parametrize(
    ("_case", "unit", "expected"),
    [
        ("working_days", DayUnit.WORKING, date(2026, 10, 13)),
        ("natural_days", DayUnit.NATURAL, date(2026, 10, 5)),
    ],
)
def test_supplement_due_in_working_or_natural_days(_case: str, unit: str, expected: date) -> None:
    due = sla.supplement_due(at(2026, 9, 30), 5, unit)
    assert timezone.localtime(due).date() == expected


@settings(max_examples=60, deadline=None)
@given(
    start=st.dates(min_value=date(2026, 1, 1), max_value=date(2026, 11, 30)),
    limit=st.integers(min_value=1, max_value=30),
    pause_start=st.integers(min_value=0, max_value=20),
    pause_len=st.integers(min_value=0, max_value=30),
)
def test_deadline_always_leaves_exactly_the_limit_unpaused(
    start: date, limit: int, pause_start: int, pause_len: int
) -> None:
    # given any acceptance date and a closed pause somewhere after it
    started = timezone.make_aware(datetime.combine(start, datetime.min.time())).replace(hour=9)
    p_start = started + (timezone.timedelta(days=pause_start))
    pause = sla.Pause(started_at=p_start, ended_at=p_start + timezone.timedelta(days=pause_len))
    clock = sla.Clock(started_at=started, limit_days=limit, pauses=(pause,))
    now = pause.ended_at
    # when we stand at the deadline
    end = sla.deadline(clock, now)
    # then exactly ``limit`` working days have been used and the deadline is a working day
    assert sla.days_used(clock, max(end, now)) == limit or end < now
    assert calendar.is_working_day(end)
