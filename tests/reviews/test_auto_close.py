"""A rectified ticket whose rater never answers closes by itself after the feedback window
(beat task ``reviews.close_unanswered``; REVIEWS_FEEDBACK_DAYS or the region's policy)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.handoffs.models import Handoff
from apps.identity.constants import StaffRole
from apps.notifications.models import Notification
from apps.reviews import services, tasks
from apps.reviews.constants import FollowUpChannel, FollowUpResult, Grade, RaterAnswer, TicketStatus
from apps.reviews.models import RectificationTicket, ReviewPolicy, ReviewRollup
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory, verified_user
from tests.reviews.factories import BAD_REASON, window_service

TZ = ZoneInfo("Asia/Shanghai")
RECTIFIED = datetime(2026, 10, 12, 10, 0, tzinfo=TZ)


def _total(field: str) -> int:
    return sum(ReviewRollup.objects.filter(dimension="total").values_list(field, flat=True))


@pytest.fixture
def rater():
    return verified_user("孙丽")


@pytest.fixture
def rectified(department, rater) -> RectificationTicket:
    """A 差评 followed up and rectified on 2026-10-12 10:00, awaiting the rater's answer."""
    worker = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    with time_machine.travel(RECTIFIED, tick=False):
        service = window_service(department, served_user=rater)
        ticket = services.rate_by_token(
            token=services.pad_token(service),
            grade=Grade.VERY_DISSATISFIED,
            options=[BAD_REASON],
        ).ticket
        services.record_follow_up(
            ticket_id=ticket.pk,
            user=worker,
            channel=FollowUpChannel.PHONE,
            result=FollowUpResult.REACHED,
        )
        services.start_rectification(ticket_id=ticket.pk, user=worker, finding="属实")
        services.record_rectification(
            ticket_id=ticket.pk, user=worker, measures="增开窗口", result="已改"
        )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.AWAITING_FEEDBACK
    return ticket


def test_unanswered_ticket_closes_after_the_window_audited(rectified, rater, settings) -> None:
    # given the national target and the default window of 7 natural days
    national = DepartmentFactory(name="国家政务服务平台好差评系统")
    settings.REVIEWS_NATIONAL_TARGET_USCC = national.uscc
    # when the beat task runs just before and just after the window
    with time_machine.travel(datetime(2026, 10, 19, 9, 59, tzinfo=TZ), tick=False):
        before = tasks.close_unanswered_tickets()
    with time_machine.travel(datetime(2026, 10, 19, 10, 1, tzinfo=TZ), tick=False):
        after = tasks.close_unanswered_tickets()
        again = tasks.close_unanswered_tickets()
    # then it closes once, marked unanswered, audited, pushed and the rater told
    assert (before, after, again) == (0, 1, 0)
    rectified.refresh_from_db()
    assert (rectified.status, rectified.closed_without_answer, rectified.rater_answer) == (
        TicketStatus.CLOSED,
        True,
        "",
    )
    event = AuditEvent.objects.get(action="reviews.auto_close")
    assert (event.actor, event.data["feedback_days"]) == (None, 7)
    assert Notification.objects.filter(recipient=rater, kind="reviews.feedback").count() == 2
    pushed = Handoff.objects.get(idempotency_key=f"reviews-ticket-{rectified.pk}-closed")
    assert (pushed.payload["rectifyStatus"], pushed.payload["feedback"]) == ("closed", "")
    # the rectification still counts; the rater can no longer answer
    assert (_total("tickets"), _total("rectified")) == (1, 1)
    with pytest.raises(DomainError) as error:
        services.answer_feedback(ticket_id=rectified.pk, user=rater, answer=RaterAnswer.SATISFIED)
    assert error.value.code == "invalid_transition"


def test_an_answered_ticket_is_never_auto_closed(rectified, rater) -> None:
    with time_machine.travel(datetime(2026, 10, 13, 9, 0, tzinfo=TZ), tick=False):
        services.answer_feedback(
            ticket_id=rectified.pk, user=rater, answer=RaterAnswer.DISSATISFIED
        )
    with time_machine.travel(datetime(2026, 11, 30, 9, 0, tzinfo=TZ), tick=False):
        assert services.close_unanswered_tickets() == 0
    rectified.refresh_from_db()
    assert (rectified.rater_answer, rectified.closed_without_answer) == (
        RaterAnswer.DISSATISFIED,
        False,
    )
    assert not AuditEvent.objects.filter(action="reviews.auto_close").exists()


def test_the_window_is_configurable_per_region(rectified, settings) -> None:
    # given a longer window for the ticket's region, and a shorter one elsewhere
    settings.REVIEWS_FEEDBACK_DAYS = 3
    ReviewPolicy.objects.create(region=rectified.department.region, feedback_days=10)
    # when the beat runs after 3 and after 10 days
    with time_machine.travel(datetime(2026, 10, 16, 10, 1, tzinfo=TZ), tick=False):
        early = services.close_unanswered_tickets()
    with time_machine.travel(datetime(2026, 10, 22, 10, 1, tzinfo=TZ), tick=False):
        late = services.close_unanswered_tickets()
    # then only the region's own window applies
    assert (early, late) == (0, 1)
    assert AuditEvent.objects.get(action="reviews.auto_close").data["feedback_days"] == 10


def test_feedback_page_says_the_ticket_closed_unanswered(
    client, rectified, rater, django_assert_max_num_queries
) -> None:
    with time_machine.travel(datetime(2026, 10, 20, 9, 0, tzinfo=TZ), tick=False):
        services.close_unanswered_tickets()
    client.force_login(rater)
    # Queries: session, user, the ticket with its department and rating's service.
    with django_assert_max_num_queries(5):
        page = client.get(reverse("reviews:feedback", args=[rectified.pk]))
    html = page.content.decode()
    assert "您未在期限内反馈，工单已自动办结。" in html
    assert 'name="answer"' not in html


def test_the_beat_schedule_runs_the_task() -> None:
    from django.conf import settings

    entry = settings.CELERY_BEAT_SCHEDULE["reviews-close-unanswered"]
    assert entry["task"] == "reviews.close_unanswered"
    assert tasks.close_unanswered_tickets.name == "reviews.close_unanswered"
