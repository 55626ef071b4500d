"""Working-day arithmetic (DOMAIN.md §0.1): the starting day does not count."""

import logging
from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core import calendar
from apps.core.models import CalendarDay, CalendarYear, DayKind
from apps.core.services import seed_calendar, set_calendar_day, set_calendar_year
from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded() -> None:
    seed_calendar(first_year=2020)
    calendar.invalidate_calendar()


def test_national_day_2026_worked_example(seeded: None) -> None:
    # given accepted on Wednesday 2026-09-30 with a 5-working-day limit
    # when the deadline is computed
    deadline = calendar.add_working_days(date(2026, 9, 30), 5)
    # then 10-08 (1), 10-09 (2), Saturday 10-10 调休 (3), 10-12 (4), 10-13 (5)
    assert deadline == date(2026, 10, 13)


@pytest.mark.parametrize(
    ("_case", "day", "working"),
    [
        ("national_day_holiday", date(2026, 10, 1), False),
        ("last_holiday_day", date(2026, 10, 7), False),
        ("first_day_back", date(2026, 10, 8), True),
        ("tiaoxiu_saturday", date(2026, 10, 10), True),
        ("tiaoxiu_sunday_before", date(2026, 9, 20), True),
        ("plain_sunday", date(2026, 10, 11), False),
        ("mid_autumn_holiday_friday", date(2026, 9, 25), False),
        ("spring_festival_tiaoxiu", date(2026, 2, 28), True),
    ],
)
def test_2026_arrangement(seeded: None, _case: str, day: date, working: bool) -> None:
    assert calendar.is_working_day(day) is working


def test_start_day_never_counts(seeded: None) -> None:
    # given a start on a working day
    start = date(2026, 10, 12)
    # then one working day later is the next working day, and zero days is the start itself
    assert calendar.add_working_days(start, 1) == date(2026, 10, 13)
    assert calendar.add_working_days(start, 0) == start
    assert calendar.count_working_days(start, start) == 0


def test_count_working_days_across_holiday(seeded: None) -> None:
    # given the interval from accepting on 09-30 to the deadline 10-13
    # then exactly five working days have elapsed, and counting is anti-symmetric
    assert calendar.count_working_days(date(2026, 9, 30), date(2026, 10, 13)) == 5
    assert calendar.count_working_days(date(2026, 10, 13), date(2026, 9, 30)) == -5
    # the whole Golden Week holds no working day
    assert calendar.count_working_days(date(2026, 9, 30), date(2026, 10, 7)) == 0


def test_deadline_is_end_of_local_day(seeded: None) -> None:
    # given a moment late in the evening in Beijing (UTC+8) expressed in UTC
    accepted = datetime(2026, 9, 30, 15, 30, tzinfo=UTC)  # 23:30 in Beijing
    # when the deadline moment is computed
    deadline = calendar.working_deadline(accepted, 5)
    # then it is the end of 2026-10-13 Beijing time
    local = timezone.localtime(deadline)
    assert local.date() == date(2026, 10, 13)
    assert local.time() == time.max


@settings(max_examples=200, deadline=None)
@given(
    start=st.dates(min_value=date(2021, 1, 1), max_value=date(2026, 6, 30)),
    days=st.integers(min_value=0, max_value=120),
)
def test_add_and_count_are_inverse(start: date, days: int) -> None:
    # the property holds on the seeded calendar for any start and length within known years
    seed_calendar(first_year=2020)
    calendar.invalidate_calendar()
    end = calendar.add_working_days(start, days)
    assert calendar.count_working_days(start, end) == days
    assert days == 0 or calendar.is_working_day(end)


def test_seed_is_idempotent_and_audited() -> None:
    # given an empty calendar
    # when seeded twice
    first = seed_calendar(first_year=2020)
    second = seed_calendar(first_year=2020)
    # then the second run adds nothing and only the first wrote an audit event
    assert first["days"] > 0
    assert second == {"days": 0, "years": 0}
    assert CalendarYear.objects.filter(year=2026, is_published=True).exists()
    assert AuditEvent.objects.filter(action="calendar.seeded").count() == 1


def test_2027_falls_back_to_statutory_holidays_and_says_so(
    seeded: None, caplog: pytest.LogCaptureFixture
) -> None:
    # given chinese-calendar has no 2027 data and no administrator entered it
    assert not CalendarYear.objects.filter(year=2027).exists()
    calendar._warned_years.discard(2027)
    # when a limit runs into 2027
    with caplog.at_level(logging.WARNING, logger="apps.core.calendar"):
        deadline = calendar.add_working_days(date(2026, 12, 31), 1)
    # then the statutory holidays are used (元旦, Friday 2027-01-01, is off; issue 15 §4) ...
    assert deadline == date(2027, 1, 4)
    # ... with a log warning and a flag the dashboard shows
    assert any(r.getMessage() == "calendar.fallback_statutory_holidays" for r in caplog.records)
    assert 2027 in calendar.fallback_years_used()
    health = calendar.calendar_health(date(2026, 11, 23))
    assert health["missing_years"] == [2027]
    assert health["current_year_known"] is True


def test_admin_enters_2027_arrangement(seeded: None) -> None:
    # given an administrator enters the State Council's 2027 New Year holiday
    admin = UserFactory(admin=True)
    set_calendar_day(day=date(2027, 1, 1), kind=DayKind.HOLIDAY, name="元旦", actor=admin)
    set_calendar_year(year=2027, is_published=True, notice="国办发明电〔2026〕X号", actor=admin)
    calendar.invalidate_calendar()
    # when a limit runs into 2027
    deadline = calendar.add_working_days(date(2026, 12, 31), 1)
    # then New Year's Day is skipped (Sat/Sun too): Monday 2027-01-04
    assert deadline == date(2027, 1, 4)
    assert calendar.calendar_health(date(2026, 11, 23))["missing_years"] == []
    actions = list(AuditEvent.objects.filter(actor=admin).values_list("action", flat=True))
    assert actions == ["calendar.day_set", "calendar.year_set"]


def test_admin_screen_edits_calendar_through_audited_service(seeded: None, client) -> None:
    # given a superuser in the admin
    admin = UserFactory(admin=True)
    client.force_login(admin)
    # when a 调休 working Saturday is added through the admin form
    response = client.post(
        reverse("admin:core_calendarday_add"),
        {"date": "2027-02-06", "kind": DayKind.WORKDAY, "name": "春节调休"},
    )
    # then it is stored as an administrator entry and audited
    assert response.status_code == 302
    day = CalendarDay.objects.get(date=date(2027, 2, 6))
    assert day.kind == DayKind.WORKDAY
    assert day.source == "admin"
    assert AuditEvent.objects.filter(action="calendar.day_set", actor=admin).count() == 1


def test_negative_days_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        calendar.add_working_days(date(2026, 1, 5), -1)
