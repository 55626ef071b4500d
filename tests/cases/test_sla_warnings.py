"""SLA warnings (电子监察 预警): no stall behind already-warned cases, configurable thresholds, and
notices to the case's clerks and the department, each once."""

from datetime import datetime

import pytest
import time_machine

from django.utils import timezone

from apps.cases import selectors, services, sla
from apps.cases.constants import CaseStatus, SlaLevel
from apps.cases.models import Case, SlaWarning
from apps.cases.selectors import QueueFilters
from apps.core.models import ServiceHall
from apps.identity.constants import StaffRole
from apps.notifications.models import Notification
from tests.cases.factories import FORM, case_in, citizen, clerk_of, item_version, reviewer_of
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()


def at(y, m, d, hh=10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TZ)


@pytest.fixture
def version(department):
    return item_version(department)  # promises 5 working days


def accepted_on(day: datetime, version, clerk, reviewer) -> Case:
    with time_machine.travel(day, tick=False):
        return case_in(
            CaseStatus.ACCEPTED,
            version=version,
            applicant=citizen(),
            clerk=clerk,
            reviewer=reviewer,
        )


def test_warnings_do_not_stall_behind_more_than_a_batch_of_warned_cases(
    department, version, clerk
) -> None:
    reviewer = reviewer_of(department)
    # given four cases accepted Mon 11-02 (deadline Mon 11-09), all red-warned on 11-16
    old = [accepted_on(at(2026, 11, 2), version, clerk, reviewer) for _ in range(4)]
    with time_machine.travel(at(2026, 11, 16), tick=False):
        assert services.raise_sla_warnings(batch=10) == {"yellow": 0, "red": 4}
    # and a case accepted Tue 11-10 (deadline Tue 11-17), still in process
    fresh = accepted_on(at(2026, 11, 10), version, clerk, reviewer)
    # when the beat runs on Mon 11-16 (1 working day left) with a batch smaller than the
    # number of cases already warned
    with time_machine.travel(at(2026, 11, 16, 11), tick=False):
        raised = services.raise_sla_warnings(batch=3)
    # then the fresh case still gets its yellow warning: the warned ones are not rescanned
    assert raised == {"yellow": 1, "red": 0}
    assert list(SlaWarning.objects.filter(case=fresh).values_list("level", flat=True)) == [
        SlaLevel.YELLOW
    ]
    assert SlaWarning.objects.filter(case__in=old).count() == 4
    # and once overdue it turns red, again past the warned ones
    with time_machine.travel(at(2026, 11, 18, 11), tick=False):
        assert services.raise_sla_warnings(batch=3) == {"yellow": 0, "red": 1}
        assert services.raise_sla_warnings(batch=3) == {"yellow": 0, "red": 0}


def test_red_threshold_is_configurable(settings, department, version, clerk) -> None:
    settings.CASES_SLA_RED_OVERDUE_DAYS = 2
    settings.CASES_SLA_YELLOW_DAYS = 1
    case = accepted_on(at(2026, 11, 2), version, clerk, reviewer_of(department))
    deadline = case.deadline  # end of Mon 11-09
    # overdue by one working day (Tue 11-10): not red yet, still yellow
    assert not sla.is_red(deadline, at(2026, 11, 10))
    with time_machine.travel(at(2026, 11, 10), tick=False):
        assert services.raise_sla_warnings() == {"yellow": 1, "red": 0}
        red = selectors.list_queue_for_clerk(clerk, QueueFilters(sla="red"))
        yellow = selectors.list_queue_for_clerk(clerk, QueueFilters(sla="yellow"))
        assert (list(red), list(yellow)) == ([], [case])
    # overdue by two working days (Wed 11-11): red, in the beat and in the queue filter alike
    assert sla.is_red(deadline, at(2026, 11, 11))
    with time_machine.travel(at(2026, 11, 11), tick=False):
        assert services.raise_sla_warnings() == {"yellow": 0, "red": 1}
        red = selectors.list_queue_for_clerk(clerk, QueueFilters(sla="red"))
        assert list(red) == [case]
    # with the default (0) a case is red as soon as the deadline has passed
    settings.CASES_SLA_RED_OVERDUE_DAYS = 0
    assert sla.is_red(deadline, at(2026, 11, 10, 0))
    assert not sla.is_red(deadline, deadline)


def test_warning_notifies_the_hall_clerks_and_the_department_once(
    department, version, django_capture_on_commit_callbacks
) -> None:
    hall = ServiceHall.objects.create(
        name="南昌市政务服务中心", code="H-NC", region=department.region, level=3, address="红谷滩"
    )
    other_hall = ServiceHall.objects.create(
        name="东湖区政务服务中心", code="H-DH", region=department.region, level=4, address="东湖"
    )
    window_clerk = StaffMembershipFactory(department=department, role=StaffRole.CLERK, hall=hall)
    elsewhere = StaffMembershipFactory(department=department, role=StaffRole.CLERK, hall=other_hall)
    reviewer = StaffMembershipFactory(department=department, role=StaffRole.REVIEWER)
    admin = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN)
    supervisor = StaffMembershipFactory(department=department, role=StaffRole.SUPERVISOR)
    stranger = clerk_of(DepartmentFactory(name="南昌市公安局"))
    inactive = StaffMembershipFactory(department=department, role=StaffRole.REVIEWER)
    inactive.is_active = False
    inactive.save()
    # given a walk-in case received at ``hall`` on Mon 11-02 (deadline Mon 11-09)
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = services.create_window_case(
            clerk=window_clerk.user,
            version=version,
            applicant_user=citizen(),
            form_data=FORM,
            received_keys=["id-card", "application"],
            hall=hall,
        )
    # when the beat raises the red warning (the notice task runs on commit)
    with (
        time_machine.travel(at(2026, 11, 10), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.raise_sla_warnings() == {"yellow": 0, "red": 1}
    # then the hall's clerk and the department's admin and reviewer each get one notice
    notices = Notification.objects.filter(kind="cases.sla_warning")
    assert set(notices.values_list("recipient_id", flat=True)) == {
        window_clerk.user_id,
        reviewer.user_id,
        admin.user_id,
    }
    assert {elsewhere.user_id, supervisor.user_id, stranger.pk, inactive.user_id}.isdisjoint(
        notices.values_list("recipient_id", flat=True)
    )
    notice = notices.get(recipient=window_clerk.user)
    assert case.number in notice.title
    assert "超期" in notice.title
    assert notice.url == f"/office/cases/{case.pk}/"
    # and a retried notice task (or a second beat run) notifies nobody twice
    warning = SlaWarning.objects.get(case=case)
    assert services.notify_sla_warning(warning_id=warning.pk) == 0
    with time_machine.travel(at(2026, 11, 11), tick=False):
        assert services.raise_sla_warnings() == {"yellow": 0, "red": 0}
    assert notices.count() == 3


def test_online_case_warning_goes_to_the_department_clerks(
    department, version, clerk, django_capture_on_commit_callbacks
) -> None:
    reviewer = reviewer_of(department)
    case = accepted_on(at(2026, 11, 2), version, clerk, reviewer)
    assert case.hall_id is None
    with (
        time_machine.travel(at(2026, 11, 9), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.raise_sla_warnings() == {"yellow": 1, "red": 0}
    assert set(Notification.objects.values_list("recipient_id", "title")) == {
        (clerk.pk, f"办件 {case.number} 即将超期"),
        (reviewer.pk, f"办件 {case.number} 即将超期"),
    }
