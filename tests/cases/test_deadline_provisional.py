"""Issue 15 §4 through the cases: deadlines reaching 2027 (no published arrangement yet) are
provisional on the case screens and in the API, and loading the arrangement recomputes the
open deadlines it moves, audited, with a notice to the clerks."""

from datetime import date, datetime

import pytest
import time_machine

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus
from apps.cases.models import Case, CaseEvent
from apps.core import calendar
from apps.core.services import load_calendar_arrangement, parse_arrangement
from apps.notifications.models import Notification
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.core.test_calendar_2027 import ARRANGEMENT_2027

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(y, m, d, hh=10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TZ)


@pytest.fixture
def cases(department):
    version = item_version(department, promised_limit_days=20)
    clerk, reviewer = clerk_of(department), reviewer_of(department)

    def accepted_on(moment: datetime) -> Case:
        with time_machine.travel(moment, tick=False):
            return case_in(
                CaseStatus.ACCEPTED,
                version=version,
                applicant=citizen(),
                clerk=clerk,
                reviewer=reviewer,
            )

    return {
        "clerk": clerk,
        "reviewer": reviewer,
        "in_2026": accepted_on(at(2026, 9, 24)),
        "across_new_year": accepted_on(at(2026, 12, 21)),
        "across_spring": accepted_on(at(2027, 1, 25)),
    }


def local_day(moment: datetime) -> date:
    return timezone.localtime(moment).date()


def test_deadlines_reaching_2027_count_its_statutory_holidays(cases) -> None:
    # 元旦 (Fri 2027-01-01) is skipped; 除夕 Fri 02-05 and 初三 Mon 02-08 too
    assert local_day(cases["across_new_year"].deadline) == date(2027, 1, 19)
    assert local_day(cases["across_spring"].deadline) == date(2027, 2, 24)


def test_the_api_marks_provisional_deadlines(cases, dept_client, django_assert_max_num_queries):
    # (queries: token, client + department, the page of cases)
    with django_assert_max_num_queries(6):
        response = dept_client.get(reverse("api:cases-list"))
    assert response.status_code == 200
    flags = {row["id"]: row["deadline_provisional"] for row in response.json()["results"]}
    assert flags == {
        cases["in_2026"].pk: False,
        cases["across_new_year"].pk: True,
        cases["across_spring"].pk: True,
    }
    detail = dept_client.get(reverse("api:cases-detail", args=[cases["across_spring"].pk]))
    assert detail.json()["deadline_provisional"] is True


def test_the_case_screens_mark_provisional_deadlines(cases) -> None:
    client = Client()
    client.force_login(cases["clerk"])
    provisional = client.get(reverse("office-cases:case", args=[cases["across_spring"].pk]))
    settled = client.get(reverse("office-cases:case", args=[cases["in_2026"].pk]))
    assert 'data-testid="deadline-provisional"' in provisional.content.decode()
    assert 'data-testid="deadline-provisional"' not in settled.content.decode()
    applicant = Client()
    applicant.force_login(cases["across_spring"].applicant_user)
    page = applicant.get(reverse("cases:detail", args=[cases["across_spring"].pk]))
    assert 'data-testid="deadline-provisional"' in page.content.decode()


def test_loading_the_arrangement_recomputes_the_deadlines_it_moves(
    cases, django_capture_on_commit_callbacks
) -> None:
    # given the State Council's 2027 notice: 春节 02-05..02-12 off, Saturday 02-20 worked
    year, notice, days = parse_arrangement(ARRANGEMENT_2027)
    before = {key: cases[key].deadline for key in ("in_2026", "across_new_year", "across_spring")}
    # when an administrator loads it
    with django_capture_on_commit_callbacks(execute=True):
        result = load_calendar_arrangement(year=year, notice=notice, days=days, actor=None)
    calendar.invalidate_calendar()
    # then only the deadline the notice moves changes:
    # 01-26..29 4, 02-01..04 8, 02-15..19 13, 02-20 (调休) 14, 02-22..26 19, 03-01 20
    assert result == {"days": 10, "recomputed": 1}
    moved = Case.objects.get(pk=cases["across_spring"].pk)
    assert local_day(moved.deadline) == date(2027, 3, 1)
    assert Case.objects.get(pk=cases["in_2026"].pk).deadline == before["in_2026"]
    assert Case.objects.get(pk=cases["across_new_year"].pk).deadline == before["across_new_year"]
    # with a public timeline entry and its audit record ...
    event = CaseEvent.objects.get(action="deadline_recomputed")
    assert event.case_id == moved.pk
    assert event.is_public is True
    assert event.data["year"] == 2027
    audit = AuditEvent.objects.get(action="cases.deadline_recomputed")
    assert audit.data["event_id"] == event.pk
    # ... a notice to the case's clerks and department ...
    notices = Notification.objects.filter(kind="cases.deadline_recomputed")
    assert set(notices.values_list("recipient_id", flat=True)) == {
        cases["clerk"].pk,
        cases["reviewer"].pk,
    }
    # ... and nothing is provisional any more
    assert calendar.is_provisional_span(moved.accepted_at, moved.deadline) is False
    # loading it again recomputes nothing
    with django_capture_on_commit_callbacks(execute=True):
        again = load_calendar_arrangement(year=year, notice=notice, days=days, actor=None)
    assert again["recomputed"] == 0
    assert CaseEvent.objects.filter(action="deadline_recomputed").count() == 1
