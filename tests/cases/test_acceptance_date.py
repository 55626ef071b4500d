"""行政许可法 Art. 32: the acceptance date after a supplement, and the 5-day rule applied again.

Calendar (2026, apps.core seed): Mon 11-02 … Fri 11-06, Mon 11-09 … are working days.
The factory item promises 5 working days.
"""

from datetime import date, datetime

import pytest
import time_machine

from django.utils import timezone

from apps.cases import services
from apps.cases.constants import CaseAction, CaseStatus
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.core.exceptions import DomainError
from tests.cases.factories import case_in, citizen, item_version, pdf, reviewer_of

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()


def at(y, m, d, hh=10, mm=0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=TZ)


@pytest.fixture
def version(department):
    return item_version(department)


@pytest.fixture
def applicant():
    return citizen()


@pytest.fixture
def reviewer(department):
    return reviewer_of(department)


def awaiting(version, applicant, clerk, reviewer) -> Case:
    """Received Mon 11-02 10:00, supplement notice issued Tue 11-03 10:00."""
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = case_in(
            CaseStatus.SUBMITTED,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    with time_machine.travel(at(2026, 11, 3), tick=False):
        services.request_supplement(
            case_id=case.pk,
            actor=CaseActor.of(clerk),
            items=[{"key": "application", "reason": "申请表未签字"}],
            due_days=10,
        )
    return case


def resubmit(case: Case, applicant, when: datetime) -> None:
    me = CaseActor.of(applicant)
    with time_machine.travel(when, tick=False):
        services.add_material_upload(
            case_id=case.pk, actor=me, slot_key="application", upload=pdf()
        )
        services.resubmit_case(case_id=case.pk, actor=me)


def test_acceptance_date_is_the_arrival_of_the_full_supplement(
    version, applicant, clerk, reviewer
) -> None:
    # given the full supplement arrived online on Wed 11-04 at 14:30
    case = awaiting(version, applicant, clerk, reviewer)
    arrival = at(2026, 11, 4, 14, 30)
    resubmit(case, applicant, arrival)
    # when the clerk accepts two days later, within the 5-day window
    with time_machine.travel(at(2026, 11, 6, 9), tick=False):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    case.refresh_from_db()
    # then the acceptance date and the SLA start are the arrival, not the clerk's click
    assert case.status == CaseStatus.ACCEPTED
    assert case.accepted_at == arrival
    assert not case.deemed_accepted
    # 5 working days from Wed 11-04: 11-05, 11-06, 11-09, 11-10, 11-11
    assert timezone.localtime(case.deadline).date() == date(2026, 11, 11)
    event = case.events.get(action=CaseAction.ACCEPT)
    assert datetime.fromisoformat(event.data["accepted_at"]) == arrival
    assert timezone.localtime(event.created_at) == at(2026, 11, 6, 9)


def test_supplemented_case_is_deemed_accepted_from_the_arrival_by_the_beat(
    version, applicant, clerk, reviewer
) -> None:
    case = awaiting(version, applicant, clerk, reviewer)
    arrival = at(2026, 11, 4, 14, 30)
    resubmit(case, applicant, arrival)
    case.refresh_from_db()
    # the 5-day window restarts at the arrival: 11-05, 11-06, 11-09, 11-10, 11-11
    assert timezone.localtime(case.supplement_notice_due).date() == date(2026, 11, 11)
    # when the beat runs on the last day of the window: nothing happens yet
    with time_machine.travel(at(2026, 11, 11, 23), tick=False):
        assert services.apply_case_deadlines()["deemed_accepted"] == 0
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPPLEMENTED
    # and the next day the system deems it accepted from the arrival, once
    with time_machine.travel(at(2026, 11, 12, 1), tick=False):
        assert services.apply_case_deadlines()["deemed_accepted"] == 1
        assert services.apply_case_deadlines()["deemed_accepted"] == 0
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.deemed_accepted
    assert case.accepted_at == arrival
    assert timezone.localtime(case.deadline).date() == date(2026, 11, 11)
    event = case.events.get(action=CaseAction.DEEM_ACCEPTED)
    assert event.actor_kind == "system"
    assert event.from_status == CaseStatus.SUPPLEMENTED
    assert "补正材料收到之日" in event.note


def test_second_notice_after_the_window_from_the_arrival_is_refused(
    version, applicant, clerk, reviewer
) -> None:
    case = awaiting(version, applicant, clerk, reviewer)
    resubmit(case, applicant, at(2026, 11, 4, 14, 30))
    with time_machine.travel(at(2026, 11, 12, 9), tick=False), pytest.raises(DomainError) as exc:
        services.request_supplement(
            case_id=case.pk,
            actor=CaseActor.of(clerk),
            items=[{"key": "application", "reason": "仍未签字"}],
            due_days=5,
        )
    assert exc.value.code == "supplement_window_passed"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPPLEMENTED


def test_clerk_accepting_after_the_window_before_the_beat_gets_the_receipt_date(
    version, applicant, clerk, reviewer
) -> None:
    # given received Mon 11-02; the window ends with Mon 11-09
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = case_in(
            CaseStatus.SUBMITTED,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    # when the clerk presses 受理 on Tue 11-10 before any beat run
    with time_machine.travel(at(2026, 11, 10, 8, 30), tick=False):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    case.refresh_from_db()
    # then the deemed rule applies: accepted from receipt
    assert case.accepted_at == case.received_at == at(2026, 11, 2)
    assert case.deemed_accepted
    # 5 working days from 11-02: 11-03 … 11-06, 11-09
    assert timezone.localtime(case.deadline).date() == date(2026, 11, 9)
    # and the beat has nothing left to do
    with time_machine.travel(at(2026, 11, 10, 9), tick=False):
        assert services.apply_case_deadlines()["deemed_accepted"] == 0


def test_clerk_accepting_within_the_window_uses_the_moment_of_acceptance(
    version, applicant, clerk, reviewer
) -> None:
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = case_in(
            CaseStatus.SUBMITTED,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    with time_machine.travel(at(2026, 11, 9, 16), tick=False):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    case.refresh_from_db()
    assert case.accepted_at == at(2026, 11, 9, 16)
    assert not case.deemed_accepted


def test_supplemented_case_accepted_late_before_the_beat_is_deemed_from_the_arrival(
    version, applicant, clerk, reviewer
) -> None:
    case = awaiting(version, applicant, clerk, reviewer)
    arrival = at(2026, 11, 4, 14, 30)
    resubmit(case, applicant, arrival)
    with time_machine.travel(at(2026, 11, 13, 9), tick=False):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    case.refresh_from_db()
    assert case.accepted_at == arrival
    assert case.deemed_accepted


def test_supplement_handed_in_at_the_window_is_accepted_now(
    version, applicant, clerk, reviewer
) -> None:
    # given a notice issued 11-03; the applicant brings the material to the window on 11-05
    case = awaiting(version, applicant, clerk, reviewer)
    with time_machine.travel(at(2026, 11, 5, 11), tick=False):
        services.add_material_upload(
            case_id=case.pk, actor=CaseActor.of(clerk), slot_key="application", upload=pdf()
        )
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    case.refresh_from_db()
    assert case.accepted_at == at(2026, 11, 5, 11)
    assert not case.deemed_accepted
    assert case.supplement_notices.get().fulfilled_at == at(2026, 11, 5, 11)
