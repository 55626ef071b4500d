"""Issue 15 §4: a year without a published State Council arrangement counts the statutory
holidays of 《全国年节及纪念日放假办法》 (2025 revision), provisionally, until an
administrator loads the arrangement."""

from datetime import date

import pytest
from chinese_calendar import is_holiday

from django.core.management import CommandError, call_command

from apps.audit.models import AuditEvent
from apps.core import calendar
from apps.core.exceptions import DomainError
from apps.core.models import CalendarDay, CalendarYear, DayKind
from apps.core.services import load_calendar_arrangement, parse_arrangement, seed_calendar

pytestmark = pytest.mark.django_db

ARRANGEMENT_2027 = """\
# 国务院办公厅关于2027年部分节假日安排的通知（测试用日期）
year 2027
notice 国办发明电〔2026〕99号
holiday 2027-01-01 元旦
holiday 2027-02-05..2027-02-12 春节
workday 2027-02-20 春节
"""


@pytest.fixture
def seeded() -> None:
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


def test_statutory_holidays_of_2027() -> None:
    # 除夕 2027 is 2027-02-05 (正月初一 2027-02-06); 清明 2027-04-05; 端午 2027-06-09;
    # 中秋 2027-09-15.
    assert calendar.statutory_holidays(2027) == {
        date(2027, 1, 1): "元旦",
        date(2027, 2, 5): "春节",
        date(2027, 2, 6): "春节",
        date(2027, 2, 7): "春节",
        date(2027, 2, 8): "春节",
        date(2027, 4, 5): "清明节",
        date(2027, 5, 1): "劳动节",
        date(2027, 5, 2): "劳动节",
        date(2027, 6, 9): "端午节",
        date(2027, 9, 15): "中秋节",
        date(2027, 10, 1): "国庆节",
        date(2027, 10, 2): "国庆节",
        date(2027, 10, 3): "国庆节",
    }


@pytest.mark.parametrize("year", [2025, 2026])
def test_the_rule_agrees_with_published_years(year: int) -> None:
    # every statutory day off the rule computes is a day off in the State Council's notice
    days = calendar.statutory_holidays(year)
    assert len(days) == 13
    assert [day for day in days if not is_holiday(day)] == []


@pytest.mark.parametrize(
    ("_case", "start", "days", "expected"),
    [
        # Thursday 2026-12-31 counts; Friday 元旦 and the weekend do not
        ("across 元旦", date(2026, 12, 30), 2, date(2027, 1, 4)),
        # 除夕 Friday 02-05 off, weekend, 初三 Monday 02-08 off
        ("across 春节", date(2027, 2, 4), 1, date(2027, 2, 9)),
        ("into 清明", date(2027, 4, 2), 1, date(2027, 4, 6)),
        # 20 working days from 2026-12-21: 元旦 and 春节 both skipped
        ("20 days from December", date(2026, 12, 21), 20, date(2027, 1, 19)),
        ("30 days across 春节", date(2027, 1, 4), 30, date(2027, 2, 17)),
    ],
)
def test_working_days_across_2026_to_2027(seeded, _case, start, days, expected) -> None:
    assert not calendar.get_calendar().is_known_year(2027)
    assert calendar.add_working_days(start, days) == expected
    assert calendar.count_working_days(start, expected) == days


def test_spans_into_an_unpublished_year_are_provisional(seeded) -> None:
    assert calendar.is_provisional_span(date(2026, 12, 21), date(2027, 1, 19)) is True
    assert calendar.is_provisional_span(date(2026, 9, 30), date(2026, 10, 13)) is False


def test_healthz_keeps_warning_about_2027(seeded, client) -> None:
    health = calendar.calendar_health(date(2026, 12, 5))
    assert health["missing_years"] == [2027]
    assert health["fallback"] == "statutory_holidays"


def test_parse_arrangement() -> None:
    year, notice, days = parse_arrangement(ARRANGEMENT_2027)
    assert (year, notice) == (2027, "国办发明电〔2026〕99号")
    assert len(days) == 10
    assert [d.day for d in days if d.kind == DayKind.WORKDAY] == [date(2027, 2, 20)]


@pytest.mark.parametrize(
    ("_case", "text"),
    [
        ("no year", "holiday 2027-01-01 元旦"),
        ("other year", "year 2027\nholiday 2028-01-01 元旦"),
        ("bad date", "year 2027\nholiday 2027-02-30 春节"),
        ("unknown keyword", "year 2027\nvacation 2027-01-01"),
        ("twice", "year 2027\nholiday 2027-01-01\nworkday 2027-01-01"),
    ],
)
def test_bad_arrangements_are_refused(_case, text) -> None:
    with pytest.raises(DomainError):
        parse_arrangement(text)


def test_loading_the_arrangement_publishes_the_year_audited(seeded, tmp_path) -> None:
    # given
    path = tmp_path / "2027.txt"
    path.write_text(ARRANGEMENT_2027, encoding="utf-8")
    # when
    call_command("load_holiday_arrangement", str(path))
    calendar.invalidate_calendar()
    # then
    year = CalendarYear.objects.get(year=2027)
    assert year.is_published is True
    assert year.notice == "国办发明电〔2026〕99号"
    assert CalendarDay.objects.filter(date__year=2027).count() == 10
    assert calendar.is_working_day(date(2027, 2, 20)) is True  # 调休 Saturday
    assert calendar.is_working_day(date(2027, 2, 9)) is False
    assert calendar.is_provisional_span(date(2026, 12, 21), date(2027, 1, 19)) is False
    event = AuditEvent.objects.get(action="calendar.arrangement_loaded")
    assert event.data["workdays"] == ["2027-02-20"]
    # loading the same notice again changes nothing
    year_, notice, days = parse_arrangement(ARRANGEMENT_2027)
    again = load_calendar_arrangement(year=year_, notice=notice, days=days, actor=None)
    assert again == {"days": 10, "recomputed": 0}
    assert AuditEvent.objects.filter(action="calendar.arrangement_loaded").count() == 1


def test_the_command_reports_a_bad_file(tmp_path) -> None:
    path = tmp_path / "bad.txt"
    path.write_text("year 2027\nholiday 2027-13-01\n", encoding="utf-8")
    with pytest.raises(CommandError):
        call_command("load_holiday_arrangement", str(path))
    assert not CalendarYear.objects.filter(year=2027).exists()


@pytest.mark.parametrize("year", [1899, 2100])
def test_years_outside_the_lunar_tables_have_no_computed_holidays(year: int) -> None:
    assert calendar.statutory_holidays(year) == {}


def test_the_calculator_answers_for_a_far_year(client) -> None:
    response = client.get("/api/v1/core/calendar/working-days/?start=1850-01-01&days=3")
    assert response.status_code == 200
    assert response.json()["calendar_known"] is False
