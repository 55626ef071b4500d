"""The bad-review loop (DOMAIN.md §2.5): ticket, deadlines in working days, follow-up,
rectification, feedback and answer, escalation, appeals decided by the 管理机构 only."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity.constants import StaffRole
from apps.notifications.models import Notification
from apps.reviews import services
from apps.reviews.constants import (
    AppealGround,
    AppealStatus,
    FollowUpChannel,
    FollowUpResult,
    Grade,
    RaterAnswer,
    TicketStatus,
)
from apps.reviews.models import Appeal, Rating, RectificationTicket, ReviewPolicy, ReviewRollup
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory, UserFactory
from tests.reviews.factories import BAD_REASON, authority, window_service

TZ = ZoneInfo("Asia/Shanghai")


def _total(field: str) -> int:
    return sum(ReviewRollup.objects.filter(dimension="total").values_list(field, flat=True))


def _bad_rating(department, *, served_user=None, at=datetime(2026, 9, 30, 10, 0, tzinfo=TZ)):
    with time_machine.travel(at, tick=False):
        service = window_service(department, served_user=served_user)
        return services.rate_by_token(
            token=services.pad_token(service),
            grade=Grade.VERY_DISSATISFIED,
            options=[BAD_REASON],
            comment="等了两个小时",
        )


@pytest.fixture
def head(department):
    return StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user


def test_bad_rating_opens_a_ticket_for_who_handled_it_with_deadlines_across_the_holiday(
    department, head
) -> None:
    # when a 差评 arrives on Wed 2026-09-30, the day before the National Day holiday
    rating = _bad_rating(department)
    # then
    ticket = RectificationTicket.objects.get(rating=rating)
    assert (ticket.department, ticket.staff, ticket.status) == (
        department,
        rating.service.staff,
        TicketStatus.NEW,
    )
    # 1 working day: 10-01..07 are holidays → Thu 10-08; 15 working days count Sat 10-10 (调休)
    assert ticket.callback_due == datetime(2026, 10, 8, 23, 59, 59, 999999, tzinfo=TZ)
    assert ticket.rectify_due.date().isoformat() == "2026-10-27"
    assert ticket.appeal_due.date().isoformat() == "2026-10-10"
    assert set(
        Notification.objects.filter(kind="reviews.ticket").values_list("recipient", flat=True)
    ) == {head.pk, rating.service.staff_id}


def test_ticket_deadlines_are_configurable_per_region(department) -> None:
    ReviewPolicy.objects.create(region=department.region, callback_days=2, rectify_days=5)
    rating = _bad_rating(department)
    ticket = rating.ticket
    assert ticket.callback_due.date().isoformat() == "2026-10-09"
    assert ticket.rectify_due.date().isoformat() == "2026-10-13"  # DOMAIN.md worked example


def test_full_loop_follow_up_measures_feedback_and_answer(department) -> None:
    # given a bad rating by a known person
    person = UserFactory()
    rating = _bad_rating(department, served_user=person)
    ticket = rating.ticket
    worker = StaffMembershipFactory(department=department, role=StaffRole.REVIEWER).user
    # when the department works the ticket
    with time_machine.travel(datetime(2026, 10, 8, 9, 0, tzinfo=TZ), tick=False):
        services.record_follow_up(
            ticket_id=ticket.pk,
            user=worker,
            channel=FollowUpChannel.PHONE,
            result=FollowUpResult.REACHED,
            note="已致电，群众反映等候时间长，回拨 13800138000",
        )
        services.start_rectification(ticket_id=ticket.pk, user=worker, finding="高峰期窗口不足")
        services.record_rectification(
            ticket_id=ticket.pk,
            user=worker,
            measures="高峰期增开两个窗口",
            result="等候时间降至15分钟",
        )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.AWAITING_FEEDBACK
    assert "13800138000" not in ticket.follow_ups.get().note
    feedback = Notification.objects.get(kind="reviews.feedback")
    assert feedback.recipient == person
    # and the rater answers
    services.answer_feedback(ticket_id=ticket.pk, user=person, answer=RaterAnswer.SATISFIED)
    # then
    ticket.refresh_from_db()
    assert (ticket.status, ticket.rater_answer) == (TicketStatus.CLOSED, RaterAnswer.SATISFIED)
    assert (_total("tickets"), _total("followed_up"), _total("rectified")) == (1, 1, 1)
    assert _total("rectified_on_time") == 1
    assert AuditEvent.objects.filter(action__startswith="reviews.").count() == 6


def test_another_department_cannot_work_the_ticket_and_nothing_changes(department) -> None:
    rating = _bad_rating(department)
    outsider = StaffMembershipFactory(
        department=DepartmentFactory(), role=StaffRole.DEPT_ADMIN
    ).user
    with pytest.raises(DomainError) as error:
        services.record_follow_up(
            ticket_id=rating.ticket.pk,
            user=outsider,
            channel=FollowUpChannel.PHONE,
            result=FollowUpResult.REACHED,
        )
    assert error.value.code == "forbidden"
    rating.ticket.refresh_from_db()
    assert rating.ticket.status == TicketStatus.NEW
    assert not rating.ticket.follow_ups.exists()


def test_only_the_rater_answers_the_feedback(department) -> None:
    person = UserFactory()
    ticket = _bad_rating(department, served_user=person).ticket
    worker = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    services.record_follow_up(
        ticket_id=ticket.pk,
        user=worker,
        channel=FollowUpChannel.PHONE,
        result=FollowUpResult.REACHED,
    )
    services.start_rectification(ticket_id=ticket.pk, user=worker, finding="属实")
    services.record_rectification(ticket_id=ticket.pk, user=worker, measures="培训", result="已改")
    with pytest.raises(DomainError) as error:
        services.answer_feedback(ticket_id=ticket.pk, user=worker, answer=RaterAnswer.SATISFIED)
    assert error.value.code == "forbidden"


def test_overdue_tickets_escalate_to_the_head_and_the_authority_once_per_level(
    department, head
) -> None:
    # given
    supervisor = authority("360000")
    ticket = _bad_rating(department).ticket
    # when nothing happens until after the call-back deadline (Thu 10-08)
    with time_machine.travel(datetime(2026, 10, 9, 9, 0, tzinfo=TZ), tick=False):
        assert services.escalate_overdue_tickets() == 1
        assert services.escalate_overdue_tickets() == 0
    ticket.refresh_from_db()
    assert ticket.escalation_level == 1
    level_one = Notification.objects.filter(kind="reviews.escalation")
    assert set(level_one.values_list("recipient", flat=True)) == {head.pk, supervisor.pk}
    # and after the rectification deadline (10-27)
    with time_machine.travel(datetime(2026, 10, 28, 9, 0, tzinfo=TZ), tick=False):
        assert services.escalate_overdue_tickets() == 1
    ticket.refresh_from_db()
    assert ticket.escalation_level == 2
    assert Notification.objects.filter(kind="reviews.escalation").count() == 4


def test_a_ticket_followed_up_in_time_does_not_escalate_before_the_rectification_deadline(
    department,
) -> None:
    ticket = _bad_rating(department).ticket
    worker = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    with time_machine.travel(datetime(2026, 10, 8, 9, 0, tzinfo=TZ), tick=False):
        services.record_follow_up(
            ticket_id=ticket.pk,
            user=worker,
            channel=FollowUpChannel.PHONE,
            result=FollowUpResult.REACHED,
        )
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=TZ), tick=False):
        assert services.escalate_overdue_tickets() == 0


@pytest.fixture
def appealed(department, head):
    ticket = _bad_rating(department).ticket
    with time_machine.travel(datetime(2026, 10, 8, 9, 0, tzinfo=TZ), tick=False):
        appeal = services.file_appeal(
            ticket_id=ticket.pk,
            user=head,
            ground=AppealGround.MALICIOUS,
            statement="评价人当天未到窗口办理",
            evidence="监控记录与叫号记录（附件编号 2026-1008-01）",
        )
    return appeal


def test_appeal_is_decided_by_the_service_authority_and_upheld_leaves_the_statistics(
    appealed, department
) -> None:
    # given
    supervisor = authority("360000")
    assert appealed.ticket.status == TicketStatus.APPEALED
    assert (_total("ratings"), _total("tickets")) == (1, 1)
    # when
    services.decide_appeal(appeal_id=appealed.pk, user=supervisor, upheld=True, note="证据充分")
    # then
    appealed.refresh_from_db()
    rating = Rating.objects.get(pk=appealed.ticket.rating_id)
    assert appealed.status == AppealStatus.UPHELD
    assert appealed.ticket.status == TicketStatus.APPEAL_UPHELD
    assert rating.is_excluded
    assert (_total("ratings"), _total("grade_5"), _total("tickets")) == (0, 0, 0)
    assert (_total("appeals_decided"), _total("appeals_upheld")) == (1, 1)
    assert AuditEvent.objects.filter(action="reviews.decide_appeal").count() == 1


@pytest.mark.parametrize("_case", ["department_head", "department_supervisor", "other_region"])
def test_appeal_is_never_decided_by_anyone_else(appealed, department, head, _case) -> None:
    user = {
        "department_head": lambda: head,
        "department_supervisor": lambda: (
            StaffMembershipFactory(department=department, role=StaffRole.SUPERVISOR).user
        ),
        "other_region": lambda: authority("440000"),
    }[_case]()
    with pytest.raises(DomainError) as error:
        services.decide_appeal(appeal_id=appealed.pk, user=user, upheld=True, note="同意")
    assert error.value.code == "forbidden"
    appealed.refresh_from_db()
    assert appealed.status == AppealStatus.PENDING
    assert not Rating.objects.get(pk=appealed.ticket.rating_id).is_excluded


def test_rejected_appeal_returns_the_ticket_to_where_it_was(appealed) -> None:
    supervisor = authority("360000")
    services.decide_appeal(appeal_id=appealed.pk, user=supervisor, upheld=False, note="证据不足")
    appealed.ticket.refresh_from_db()
    assert appealed.ticket.status == TicketStatus.NEW
    assert (_total("ratings"), _total("appeals_decided"), _total("appeals_upheld")) == (1, 1, 0)


def test_appeal_after_the_appeal_period_is_refused(department, head) -> None:
    ticket = _bad_rating(department).ticket
    with (
        time_machine.travel(datetime(2026, 10, 12, 9, 0, tzinfo=TZ), tick=False),
        pytest.raises(DomainError) as error,
    ):
        services.file_appeal(
            ticket_id=ticket.pk,
            user=head,
            ground=AppealGround.MISTAKEN,
            statement="非本窗口",
            evidence="叫号记录",
        )
    assert error.value.code == "appeal_too_late"
    assert not Appeal.objects.exists()


def test_appeal_needs_evidence_and_the_department_head(department, head) -> None:
    ticket = _bad_rating(department).ticket
    clerk = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    with time_machine.travel(datetime(2026, 10, 8, 9, 0, tzinfo=TZ), tick=False):
        with pytest.raises(DomainError) as by_clerk:
            services.file_appeal(
                ticket_id=ticket.pk,
                user=clerk,
                ground=AppealGround.TEST,
                statement="测试",
                evidence="截图",
            )
        with pytest.raises(DomainError) as no_evidence:
            services.file_appeal(
                ticket_id=ticket.pk,
                user=head,
                ground=AppealGround.TEST,
                statement="测试",
                evidence=" ",
            )
    assert (by_clerk.value.code, no_evidence.value.code) == ("forbidden", "evidence_required")
    assert not Appeal.objects.exists()
