"""The national push: every rating and ticket result is an outbox row in the interface's
field format (DOMAIN.md §2.3), idempotent, without the rater's identity."""

from __future__ import annotations

import json

import pytest

from apps.handoffs.models import Handoff
from apps.handoffs.simulator import national as simulated_national
from apps.reviews import services
from apps.reviews.constants import FollowUpChannel, FollowUpResult, Grade
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory, verified_user
from tests.reviews.factories import BAD_REASON, window_service


@pytest.fixture
def national(settings):
    target = DepartmentFactory(name="国家政务服务平台好差评系统")
    settings.REVIEWS_NATIONAL_TARGET_USCC = target.uscc
    return target


def test_a_rating_is_pushed_in_the_national_field_format(national, department) -> None:
    # given
    person = verified_user("孙丽")
    service = window_service(department, served_user=person)
    # when
    rating = services.rate_by_token(
        token=services.pad_token(service),
        grade=Grade.VERY_DISSATISFIED,
        options=[BAD_REASON],
        comment="电话13500001111",
    )
    # then
    handoff = Handoff.objects.get(event="reviews.rating")
    payload = handoff.payload
    assert handoff.target_department == national
    assert handoff.idempotency_key == f"reviews-rating-{rating.pk}"
    # national order: 1 = 非常不满意 (the reverse of GB/T 39046 A.8)
    assert (payload["satisfaction"], payload["pf"], payload["assessNumber"]) == ("1", "4", "1")
    assert payload["evalDetail"] == BAD_REASON
    assert payload["hallCode"] == service.hall.code
    assert payload["windowNo"] == service.window.number
    assert payload["proDepartId"] == department.uscc
    text = json.dumps(payload, ensure_ascii=False)
    for secret in ("孙丽", person.person.id_number, "13500001111", person.username):
        assert secret not in text


def test_the_ticket_result_is_pushed_once_per_state(national, department) -> None:
    service = window_service(department)
    rating = services.rate_by_token(
        token=services.pad_token(service), grade=Grade.DISSATISFIED, options=[BAD_REASON]
    )
    worker = StaffMembershipFactory(department=department, role="reviewer").user
    ticket = rating.ticket
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
    results = Handoff.objects.filter(event="reviews.rectification")
    assert [h.payload["rectifyStatus"] for h in results] == ["closed"]  # no rater: closes
    assert results.get().payload["rectifyMeasure"] == "增开窗口"


def test_nothing_is_pushed_without_a_national_target(department) -> None:
    service = window_service(department)
    services.rate_by_token(token=services.pad_token(service), grade=Grade.SATISFIED)
    assert not Handoff.objects.filter(event__startswith="reviews.").exists()


def test_the_pushed_payloads_pass_the_national_systems_field_check(national, department) -> None:
    # given a bad rating with a number typed in its comment, and a system default rating
    bad = services.rate_by_token(
        token=services.pad_token(window_service(department)),
        grade=Grade.VERY_DISSATISFIED,
        options=[BAD_REASON],
        comment="身份证360102199001011234",
    )
    # when the national system (the simulator's check) reads the pushed payloads
    envelopes = [
        {"event": h.event, "payload": h.payload}
        for h in Handoff.objects.filter(event__startswith="reviews.").order_by("pk")
    ]
    # then every one is within the interface, with no personal number in clear
    assert [h["event"] for h in envelopes] == ["reviews.rating"]
    assert envelopes[0]["payload"]["evaluateId"] == f"GP-{bad.pk}"
    assert [simulated_national.check(envelope) for envelope in envelopes] == [[]], envelopes
