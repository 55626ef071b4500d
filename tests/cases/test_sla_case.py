"""The SLA clock through the services: National Day 2026 with a supplement pause in between."""

from datetime import date, datetime, timedelta

import pytest
import time_machine

from django.utils import timezone

from apps.cases import selectors, services
from apps.cases.constants import CaseStatus, PauseKind, SlaLevel
from apps.cases.models import SlaWarning
from apps.cases.permissions import CaseActor
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(y, m, d, hh=10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TZ)


def test_national_day_with_supplement_pause(department) -> None:
    # given an item promising 10 working days, accepted on Thu 2026-09-24
    version = item_version(department, promised_limit_days=10)
    reviewer = reviewer_of(department)
    dept = CaseActor.of(reviewer)
    with time_machine.travel(at(2026, 9, 24), tick=False):
        case = case_in(
            CaseStatus.IN_REVIEW,
            version=version,
            applicant=citizen(),
            clerk=clerk_of(department),
            reviewer=reviewer,
        )
    # 09-25 Fri is 中秋 (holiday): 09-28 1, 09-29 2, 09-30 3, 10-08 4, 10-09 5, 10-10 Sat 调休 6,
    # 10-12 7, 10-13 8, 10-14 9, 10-15 10
    assert timezone.localtime(case.deadline).date() == date(2026, 10, 15)
    # when the department asks for supplementary materials on 09-29 (clock stops) ...
    with time_machine.travel(at(2026, 9, 29, 15), tick=False):
        services.suspend_case(
            case_id=case.pk, actor=dept, kind=PauseKind.SUPPLEMENT, reason="补充检测报告"
        )
    # ... and the applicant supplies them on 10-09 (clock restarts)
    with time_machine.travel(at(2026, 10, 9, 11), tick=False):
        case.refresh_from_db()
        figures = selectors.sla_figures(case)
        assert figures.paused
        assert figures.days_used == 2
        services.resume_case(case_id=case.pk, actor=dept, result="已补充")
    case.refresh_from_db()
    # then (09-29, 10-09] holds 3 working days (09-30, 10-08, 10-09): deadline +3 → 10-20
    assert case.paused_days == 3
    assert timezone.localtime(case.deadline).date() == date(2026, 10, 20)
    with time_machine.travel(at(2026, 10, 9, 12), tick=False):
        figures = selectors.sla_figures(case)
    assert (figures.days_used, figures.days_left, figures.level) == (2, 8, None)


def test_sla_warnings_are_raised_once_per_level(department) -> None:
    version = item_version(department, promised_limit_days=3)
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = case_in(
            CaseStatus.ACCEPTED,
            version=version,
            applicant=citizen(),
            clerk=clerk_of(department),
            reviewer=reviewer_of(department),
        )
    # deadline Thu 11-05; on 11-03 two days are left → yellow
    with time_machine.travel(at(2026, 11, 3), tick=False):
        assert services.raise_sla_warnings() == {"yellow": 1, "red": 0}
        assert services.raise_sla_warnings() == {"yellow": 0, "red": 0}
    with time_machine.travel(at(2026, 11, 6), tick=False):
        assert services.raise_sla_warnings() == {"yellow": 0, "red": 1}
        assert services.raise_sla_warnings() == {"yellow": 0, "red": 0}
    assert set(SlaWarning.objects.filter(case=case).values_list("level", flat=True)) == {
        SlaLevel.YELLOW,
        SlaLevel.RED,
    }
    # the warnings are on the internal timeline only
    assert case.events.filter(action="sla_warning", is_public=False).count() == 2


def test_decided_case_shows_it_finished_on_time(department) -> None:
    # given: a case decided within its limit
    version = item_version(department)
    case = case_in(
        CaseStatus.COMPLETED,
        version=version,
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )

    # when: long after the deadline
    with time_machine.travel(case.deadline + timedelta(days=60)):
        figures = selectors.sla_figures(case)

    # then: the clock stopped at the decision
    assert figures is not None
    assert (figures.running, figures.on_time, figures.level) == (False, True, None)
    assert figures.days_left == 5
