"""The department simulator playing the national 好差评 system (``--national-reviews``).

A rating made on the portal goes through the handoff outbox, a real Celery worker on the real
Redis broker pushes it, signed, to the simulator process; the simulator verifies the signature,
checks the national interface's fields, stores it, acknowledges it and posts its receipt back
through the answer API. A payload outside the interface is refused for good.
"""

from __future__ import annotations

import pytest

from apps.handoffs import services as handoff_services
from apps.handoffs.constants import AttemptOutcome, HandoffState
from apps.handoffs.models import Handoff, HandoffAnswer, HandoffAttempt
from apps.handoffs.services import SubjectRef
from apps.reviews import services
from apps.reviews.constants import Grade
from tests.conftest import wait_until
from tests.handoffs.factories import push_endpoint
from tests.identity.factories import ApiClientFactory, verified_user
from tests.reviews.factories import BAD_REASON, window_service

SECRET = "national-reviews-secret-0123456789abcdef"
NATIONAL_FIELDS = "SELECT evaluate_id, event, assess_number, satisfaction, channel FROM national"


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_a_rating_reaches_the_national_system_and_is_acknowledged(
    national,
    department,
    department_simulator,
    celery_worker_factory,
    live_server,
    settings,
) -> None:
    # given the national system (the simulator) holding the signing key and an API client
    settings.SITE_URL = live_server.url
    api_client = ApiClientFactory(department=national, allowed_scopes="handoffs")
    simulator = department_simulator(
        "--key",
        f"k1={SECRET}",
        "--national-reviews",
        "--portal-url",
        live_server.url,
        "--client-id",
        api_client.application.client_id,
        "--client-secret",
        "test-client-secret",
        "--answer",
        "received",
    )
    push_endpoint(national, simulator, secret=SECRET)
    worker = celery_worker_factory(env={"SITE_URL": live_server.url})
    service = window_service(department, served_user=verified_user("孙丽"))
    # when a citizen rates the window service 非常不满意 on the hall pad
    rating = services.rate_by_token(
        token=services.pad_token(service),
        grade=Grade.VERY_DISSATISFIED,
        options=[BAD_REASON],
        comment="等了很久，电话13500001111",
    )
    # then the worker pushes it, the national system stores it once and acknowledges it, and
    # its receipt comes back through the answer API with the national fields
    assert wait_until(lambda: HandoffAnswer.objects.count() == 1, timeout=60), (
        simulator.log() + worker.log()
    )
    handoff = Handoff.objects.get(event="reviews.rating")
    assert handoff.state == HandoffState.ACKNOWLEDGED
    assert simulator.outcomes() == {"stored": 1}
    # national order: 1 = 非常不满意; pf 4 = 政务大厅平板电脑; first rating
    assert simulator.query(NATIONAL_FIELDS) == [
        (f"GP-{rating.pk}", "reviews.rating", "1", "1", "4")
    ]
    answer = HandoffAnswer.objects.get()
    assert (answer.handoff_id, answer.kind) == (handoff.pk, "received")
    assert answer.data["evaluateId"] == f"GP-{rating.pk}"
    assert (answer.data["receiveStatus"], answer.data["assessNumber"]) == ("1", "1")
    assert answer.data["dataType"] == "evaluation"
    assert len(answer.data["receiveTime"]) == 14
    # the simulator records the portal's status after the response reaches it, which may be a
    # moment after the portal has stored the answer
    assert wait_until(lambda: simulator.answers(), timeout=10)
    assert [row[3] for row in simulator.answers()] == [201]


@pytest.mark.django_db
def test_the_national_system_refuses_a_payload_outside_the_interface(
    national, department, department_simulator
) -> None:
    # given the national system, and a rating payload with a grade outside the code list and
    # a mobile number in clear
    simulator = department_simulator("--key", f"k1={SECRET}", "--national-reviews")
    push_endpoint(national, simulator, secret=SECRET)
    handoff = handoff_services.enqueue_handoff(
        subject=SubjectRef(type="reviews.rating", id="1"),
        event="reviews.rating",
        source_department=department,
        target_department=national,
        payload={"satisfaction": "9", "writingEvaluation": "请回电13500001111"},
        idempotency_key="reviews-rating-bad",
    )
    # when the portal delivers it
    outcome = handoff_services.deliver_handoff(handoff_id=handoff.pk)
    # then it is refused with 400 (a dead letter at once: bad data does not heal), nothing is
    # stored, and the error names the fields
    assert outcome == "dead"
    assert simulator.outcomes() == {"refused_fields": 1}
    assert simulator.received_keys() == []
    assert simulator.query("SELECT COUNT(*) FROM national") == [(0,)]
    attempt = HandoffAttempt.objects.get(handoff=handoff)
    assert (attempt.status_code, attempt.outcome) == (400, AttemptOutcome.FAILED)
    for error in ("personal number in clear", "pf: not in the code list", "satisfaction: not"):
        assert error in attempt.error


@pytest.mark.django_db
def test_a_rectification_result_is_acknowledged_with_the_national_body(
    national, department, department_simulator
) -> None:
    # given the national system
    simulator = department_simulator("--key", f"k1={SECRET}", "--national-reviews")
    push_endpoint(national, simulator, secret=SECRET)
    handoff = handoff_services.enqueue_handoff(
        subject=SubjectRef(type="reviews.rectificationticket", id="7"),
        event="reviews.rectification",
        source_department=department,
        target_department=national,
        payload={"evaluateId": "GP-7", "rectifyStatus": "closed", "rectifyMeasure": "增开窗口"},
        idempotency_key="reviews-ticket-7-closed",
    )
    # when the portal delivers it twice (as after a lost acknowledgement)
    first = handoff_services.deliver_handoff(handoff_id=handoff.pk)
    Handoff.objects.filter(pk=handoff.pk).update(state=HandoffState.PENDING)
    second = handoff_services.deliver_handoff(handoff_id=handoff.pk)
    # then both are acknowledged and the national record holds it once
    assert (first, second) == ("acknowledged", "acknowledged")
    assert simulator.outcomes() == {"stored": 1, "duplicate": 1}
    assert simulator.query(NATIONAL_FIELDS) == [("GP-7", "reviews.rectification", None, None, None)]
