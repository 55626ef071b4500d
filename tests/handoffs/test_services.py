"""Outbox services: enqueue, claim-call-record delivery, retries, dead letters, sweeper, answers."""

from __future__ import annotations

import json
import random
from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.handoffs import services, signing
from apps.handoffs.constants import AnswerKind, AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.models import Handoff, HandoffAnswer, HandoffAttempt
from apps.handoffs.registry import register_answer_handler, unregister_answer_handler
from apps.handoffs.services import SubjectRef, delivery
from tests.handoffs.factories import (
    DepartmentEndpointFactory,
    HandoffFactory,
    SigningKeyFactory,
)

pytestmark = pytest.mark.django_db


def _push_endpoint(department, url, *, max_attempts=3, timeout=2, keys=1):
    endpoint = DepartmentEndpointFactory(
        department=department,
        mode=DeliveryMode.PUSH,
        push_url=url,
        max_attempts=max_attempts,
        timeout_seconds=timeout,
    )
    created = [SigningKeyFactory(endpoint=endpoint) for _ in range(keys)]
    return endpoint, created


# --- enqueue ------------------------------------------------------------------------------


def test_enqueue_writes_row_audit_and_schedules_one_task_on_commit(
    department, other_department, django_capture_on_commit_callbacks
) -> None:
    # given a subject accepted in department, handled by other_department
    subject = SubjectRef("test.subject", "42", "TEST-42")
    # when the handoff is enqueued inside the caller's transaction
    with django_capture_on_commit_callbacks() as callbacks:
        handoff = services.enqueue_handoff(
            subject=subject,
            event="case.accepted",
            source_department=department,
            target_department=other_department,
            payload={"case": "TEST-42"},
        )
    # then one pending row, one audit event and exactly one task scheduled after commit
    row = Handoff.objects.get()
    assert row.pk == handoff.pk
    assert (row.state, row.attempts, row.subject_type, row.subject_id) == (
        HandoffState.PENDING,
        0,
        "test.subject",
        "42",
    )
    assert row.subject_reference == "TEST-42"
    assert row.payload_version == 1
    assert row.max_attempts == 10  # no endpoint configured: the settings default
    assert len(callbacks) == 1
    assert AuditEvent.objects.get(action="handoffs.enqueued").object_id == str(row.pk)
    assert HandoffAttempt.objects.count() == 0  # nothing delivered inside the transaction


def test_enqueue_rolled_back_with_the_caller_leaves_nothing(
    department, other_department, django_capture_on_commit_callbacks
) -> None:
    # given a caller whose transaction fails after enqueueing
    from django.db import transaction

    # when it rolls back
    with (  # noqa: PT012
        django_capture_on_commit_callbacks() as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        services.enqueue_handoff(
            subject=SubjectRef("test.subject", "1"),
            event="case.accepted",
            source_department=department,
            target_department=other_department,
            payload={},
        )
        raise RuntimeError("accept failed")
    # then no row and no task
    assert Handoff.objects.count() == 0
    assert callbacks == []


def test_enqueue_same_idempotency_key_returns_existing(
    department, other_department, django_capture_on_commit_callbacks
) -> None:
    # given a handoff enqueued with a key
    kwargs = {
        "subject": SubjectRef("test.subject", "7"),
        "event": "case.accepted",
        "source_department": department,
        "target_department": other_department,
        "payload": {},
        "idempotency_key": "case-7-accepted",
    }
    first = services.enqueue_handoff(**kwargs)
    # when the same key is enqueued again
    with django_capture_on_commit_callbacks() as callbacks:
        second = services.enqueue_handoff(**kwargs)
    # then the first row is returned and nothing new is scheduled
    assert second.pk == first.pk
    assert Handoff.objects.count() == 1
    assert callbacks == []


def test_enqueue_key_reused_for_another_subject_is_refused(department, other_department) -> None:
    # given a key used for subject 7
    services.enqueue_handoff(
        subject=SubjectRef("test.subject", "7"),
        event="case.accepted",
        source_department=department,
        target_department=other_department,
        payload={},
        idempotency_key="k-0001",
    )
    # when subject 8 uses it
    with pytest.raises(DomainError) as error:
        services.enqueue_handoff(
            subject=SubjectRef("test.subject", "8"),
            event="case.accepted",
            source_department=department,
            target_department=other_department,
            payload={},
            idempotency_key="k-0001",
        )
    # then it is refused and nothing is written
    assert error.value.code == "idempotency_key_reused"
    assert Handoff.objects.count() == 1


def test_enqueue_model_subject_stores_label_and_pk(department, other_department) -> None:
    # given a model instance as subject (any model; a department here)
    # when enqueued
    handoff = services.enqueue_handoff(
        subject=other_department,
        event="test.model",
        source_department=department,
        target_department=other_department,
        payload={},
    )
    # then its label and pk are stored
    assert (handoff.subject_type, handoff.subject_id) == (
        "core.department",
        str(other_department.pk),
    )


# --- delivery -----------------------------------------------------------------------------


def test_internal_department_gets_handoff_in_its_office_queue(department, other_department) -> None:
    # given a target without endpoint configuration (internal)
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then it is delivered to the queue, awaiting 签收
    handoff.refresh_from_db()
    assert outcome == "delivered"
    assert (handoff.state, handoff.mode, handoff.attempts) == (
        HandoffState.DELIVERED,
        DeliveryMode.INTERNAL,
        1,
    )
    assert HandoffAttempt.objects.get().outcome == AttemptOutcome.DELIVERED


def test_push_signed_with_every_active_key_and_acknowledged_by_2xx(
    department, other_department, stub_receiver
) -> None:
    # given a push endpoint with two active keys (rotation in progress)
    endpoint, keys = _push_endpoint(other_department, stub_receiver.url, keys=2)
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then the receiver got one POST, signed by both keys, and its 2xx acknowledged the handoff
    handoff.refresh_from_db()
    assert outcome == "acknowledged"
    assert handoff.state == HandoffState.ACKNOWLEDGED
    assert len(stub_receiver.requests) == 1
    request = stub_receiver.requests[0]
    timestamp = int(request["headers"][signing.TIMESTAMP_HEADER])
    expected = ", ".join(
        f"{key.key_id}={signing.sign(key.secret, timestamp, request['body'])}"
        for key in sorted(keys, key=lambda key: -key.pk)
    )
    assert request["headers"][signing.SIGNATURE_HEADER] == expected
    assert request["headers"][signing.KEY_ID_HEADER] == keys[-1].key_id
    body = json.loads(request["body"])
    assert body["idempotency_key"] == handoff.idempotency_key
    assert body["subject"] == {
        "type": "test.subject",
        "id": handoff.subject_id,
        "reference": handoff.subject_reference,
    }
    assert body["answer_url"].endswith(f"/api/v1/handoffs/{handoff.pk}/answers/")
    # the endpoint's replay window is stated inside the signed body (verify.py applies it)
    assert body["replay_window_seconds"] == endpoint.replay_window_seconds
    assert HandoffAttempt.objects.get().status_code == 200


def test_5xx_is_retried_with_backoff_then_acknowledged(
    department, other_department, stub_receiver, settings
) -> None:
    # given a receiver answering 503 once, then 200
    settings.HANDOFF_RETRY_BASE_SECONDS = 10
    _push_endpoint(other_department, stub_receiver.url)
    stub_receiver.responses = [503]
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    first = services.deliver_handoff(handoff_id=handoff.pk)
    handoff.refresh_from_db()
    # then it is pending again, due in 5..10 s (equal jitter of a 10 s step)
    assert first == "retry"
    assert handoff.state == HandoffState.PENDING
    assert handoff.last_error.startswith("HTTP 503")
    delay = (handoff.next_attempt_at - timezone.now()).total_seconds()
    assert 4 <= delay <= 10
    # and a duplicate task before that time does nothing
    assert services.deliver_handoff(handoff_id=handoff.pk) == "not_due"
    # when the time has come
    with time_machine.travel(timezone.now() + timedelta(seconds=11)):
        second = services.deliver_handoff(handoff_id=handoff.pk)
    # then the second attempt succeeds
    handoff.refresh_from_db()
    assert second == "acknowledged"
    assert (handoff.state, handoff.attempts, handoff.last_error) == (
        HandoffState.ACKNOWLEDGED,
        2,
        "",
    )
    assert list(HandoffAttempt.objects.values_list("outcome", flat=True)) == [
        AttemptOutcome.RETRY,
        AttemptOutcome.ACKNOWLEDGED,
    ]


def test_every_attempt_is_logged_with_the_handoff_id(
    department, other_department, stub_receiver, caplog, settings
) -> None:
    # given a receiver answering 503 once, then 200, and the JSON formatter of the platform
    from apps.core.logging import JsonFormatter

    settings.HANDOFF_RETRY_BASE_SECONDS = 0.01
    _push_endpoint(other_department, stub_receiver.url)
    stub_receiver.responses = [503]
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered twice
    with caplog.at_level("INFO", logger="apps.handoffs.services"):
        services.deliver_handoff(handoff_id=handoff.pk)
        with time_machine.travel(timezone.now() + timedelta(seconds=1)):
            services.deliver_handoff(handoff_id=handoff.pk)
    # then each attempt's start and outcome are structured log lines carrying the handoff id
    lines = [json.loads(JsonFormatter().format(record)) for record in caplog.records]
    assert [(line["event"], line.get("attempt")) for line in lines] == [
        ("handoff.attempt_started", 1),
        ("handoff.retry_scheduled", 1),
        ("handoff.attempt_started", 2),
        ("handoff.acknowledged", 2),
    ]
    assert {line["handoff_id"] for line in lines} == {handoff.pk}
    assert lines[1]["status_code"] == 503


@pytest.mark.parametrize(
    ("_case", "status"), [("bad request", 400), ("unauthorised", 401), ("unprocessable", 422)]
)
def test_4xx_goes_to_dead_letter_at_once(
    _case, status, department, other_department, stub_receiver
) -> None:
    # given a receiver refusing the handoff with a 4xx
    _push_endpoint(other_department, stub_receiver.url, max_attempts=5)
    stub_receiver.default = status
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then it is a dead letter after one attempt, with the error, audited
    handoff.refresh_from_db()
    assert outcome == "dead"
    assert (handoff.state, handoff.attempts) == (HandoffState.DEAD, 1)
    assert handoff.last_error.startswith(f"HTTP {status}")
    assert AuditEvent.objects.get(action="handoffs.dead_lettered").object_id == str(handoff.pk)


@pytest.mark.parametrize(("_case", "status"), [("request timeout", 408), ("rate limited", 429)])
def test_408_and_429_are_retried(
    _case, status, department, other_department, stub_receiver
) -> None:
    # given a receiver answering 408/429 with Retry-After
    _push_endpoint(other_department, stub_receiver.url)
    stub_receiver.responses = [status]
    stub_receiver.headers = {"Retry-After": "30"}
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then it waits at least the Retry-After
    handoff.refresh_from_db()
    assert outcome == "retry"
    assert (handoff.next_attempt_at - timezone.now()).total_seconds() >= 29


def test_timeout_is_retried_and_max_attempts_ends_in_dead_letter(
    department, other_department, stub_receiver, settings
) -> None:
    # given a receiver that hangs longer than the 1 s timeout, and two attempts allowed
    settings.HANDOFF_RETRY_BASE_SECONDS = 1
    _push_endpoint(other_department, stub_receiver.url, max_attempts=2, timeout=1)
    stub_receiver.responses = ["hang", "hang"]
    handoff = HandoffFactory(
        source_department=department, target_department=other_department, max_attempts=2
    )
    # when delivered twice
    first = services.deliver_handoff(handoff_id=handoff.pk)
    with time_machine.travel(timezone.now() + timedelta(seconds=5)):
        second = services.deliver_handoff(handoff_id=handoff.pk)
    # then the first timed out and was retried, the second made it a dead letter
    handoff.refresh_from_db()
    assert (first, second) == ("retry", "dead")
    assert handoff.state == HandoffState.DEAD
    assert handoff.last_error == "timeout after 1s"
    attempts = list(HandoffAttempt.objects.values_list("outcome", "status_code"))
    assert attempts == [(AttemptOutcome.RETRY, None), (AttemptOutcome.RETRY, None)]


def test_push_without_active_key_is_a_dead_letter(department, other_department) -> None:
    # given a push endpoint without any key
    DepartmentEndpointFactory(department=other_department, push=True)
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then nothing is sent and it waits for an administrator
    handoff.refresh_from_db()
    assert outcome == "dead"
    assert handoff.state == HandoffState.DEAD


def test_acknowledged_handoff_is_not_delivered_again(department, other_department) -> None:
    # given an acknowledged handoff
    handoff = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.ACKNOWLEDGED,
    )
    # when a duplicate task runs
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then nothing happens
    assert outcome == "not_pending:acknowledged"
    assert HandoffAttempt.objects.count() == 0


def test_backoff_grows_exponentially_with_jitter_and_cap(settings) -> None:
    # given base 5 s and cap 60 s
    settings.HANDOFF_RETRY_BASE_SECONDS = 5
    settings.HANDOFF_RETRY_CAP_SECONDS = 60
    rng = random.Random(1)
    # when computed for attempts 1..8
    delays = [services.compute_backoff(n, rng=rng) for n in range(1, 9)]
    # then each lies in [step/2, step] with step = min(60, 5 * 2^(n-1))
    steps = [5, 10, 20, 40, 60, 60, 60, 60]
    assert all(step / 2 <= delay <= step for delay, step in zip(delays, steps, strict=True))
    assert len({round(delay, 3) for delay in delays[4:]}) == 4  # jitter spreads capped retries


# --- sweeper ------------------------------------------------------------------------------


def test_sweeper_requeues_lost_sending_and_overdue_pending(
    department, other_department, settings, django_capture_on_commit_callbacks, caplog
) -> None:
    # given a row stuck in sending (worker killed mid-push), one whose task was lost, one fresh
    settings.HANDOFF_SENDING_STALE_SECONDS = 60
    settings.HANDOFF_SWEEP_GRACE_SECONDS = 30
    long_ago = timezone.now() - timedelta(minutes=5)
    stuck = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.SENDING,
        claimed_at=long_ago,
        attempts=1,
    )
    attempt = HandoffAttempt.objects.create(handoff=stuck, number=1, mode=DeliveryMode.PUSH)
    Handoff.objects.filter(pk=stuck.pk).update(current_attempt=attempt)
    lost = HandoffFactory(
        source_department=department,
        target_department=other_department,
        next_attempt_at=long_ago,
        enqueued_at=long_ago,
    )
    fresh = HandoffFactory(
        source_department=department, target_department=other_department, enqueued_at=timezone.now()
    )
    # when the sweeper runs
    with django_capture_on_commit_callbacks() as callbacks, caplog.at_level("WARNING"):
        counts = services.sweep_handoffs()
    # then both stuck rows are pending and enqueued once each; the fresh one is left alone
    assert counts == {"stuck_sending": 1, "requeued_sending": 1, "dead": 0, "requeued_pending": 1}
    assert len(callbacks) == 2
    # and the log line names the handoffs it recovered
    (line,) = [r for r in caplog.records if r.getMessage() == "handoff.sweep"]
    assert (line.requeued_sending_ids, line.requeued_pending_ids, line.dead_ids) == (
        [stuck.pk],
        [lost.pk],
        [],
    )
    stuck.refresh_from_db()
    attempt.refresh_from_db()
    assert stuck.state == HandoffState.PENDING
    assert attempt.outcome == AttemptOutcome.LOST
    lost.refresh_from_db()
    assert lost.enqueued_at > long_ago
    fresh.refresh_from_db()
    assert fresh.state == HandoffState.PENDING
    # and a second sweep right away finds nothing to do
    with django_capture_on_commit_callbacks() as callbacks:
        assert services.sweep_handoffs()["requeued_pending"] == 0
    assert callbacks == []


def test_sweeper_dead_letters_lost_sending_without_attempts_left(
    department, other_department, settings
) -> None:
    # given a lost push that used the last attempt
    settings.HANDOFF_SENDING_STALE_SECONDS = 60
    stuck = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.SENDING,
        attempts=3,
        max_attempts=3,
        claimed_at=timezone.now() - timedelta(minutes=5),
    )
    # when swept
    counts = services.sweep_handoffs()
    # then it is a dead letter
    stuck.refresh_from_db()
    assert counts["dead"] == 1
    assert stuck.state == HandoffState.DEAD


def test_late_success_of_an_attempt_declared_lost_still_acknowledges(
    department, other_department, stub_receiver, settings
) -> None:
    # given a push claimed, then declared lost by the sweeper while the call was in flight
    _push_endpoint(other_department, stub_receiver.url)
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    status, request, attempt_id = delivery._claim(handoff.pk)
    assert status == "claimed"
    settings.HANDOFF_SENDING_STALE_SECONDS = 0
    services.sweep_handoffs()
    # when the original call returns 200
    outcome = delivery._record(handoff.pk, attempt_id, delivery._post_rollback_unsafe(request))
    # then the handoff is acknowledged (the receiver has it), not sent a second time
    handoff.refresh_from_db()
    assert outcome == "acknowledged"
    assert handoff.state == HandoffState.ACKNOWLEDGED


# --- answers ------------------------------------------------------------------------------


@pytest.fixture
def applied() -> list[tuple[int, str]]:
    calls: list[tuple[int, str]] = []

    def handler(*, handoff: Handoff, answer: HandoffAnswer) -> None:
        calls.append((handoff.pk, answer.kind))

    register_answer_handler("test.subject", handler)
    yield calls
    unregister_answer_handler("test.subject")


def test_answer_is_applied_once_per_idempotency_key(department, other_department, applied) -> None:
    # given a delivered handoff
    handoff = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.DELIVERED,
    )
    # when the target department answers twice with the same key
    first, created_first = services.record_handoff_answer(
        handoff_id=handoff.pk,
        department=other_department,
        kind=AnswerKind.DECISION,
        idempotency_key="decision-0001",
        data={"result": "approved"},
    )
    second, created_second = services.record_handoff_answer(
        handoff_id=handoff.pk,
        department=other_department,
        kind=AnswerKind.DECISION,
        idempotency_key="decision-0001",
        data={"result": "approved"},
    )
    # then it was applied exactly once, and the answer acknowledged the handoff
    assert (created_first, created_second) == (True, False)
    assert second.pk == first.pk
    assert applied == [(handoff.pk, AnswerKind.DECISION)]
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.ACKNOWLEDGED
    assert AuditEvent.objects.filter(action="handoffs.answered").count() == 1


def test_answer_from_another_department_is_refused(department, other_department, applied) -> None:
    # given a handoff for other_department
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when department answers it
    with pytest.raises(DomainError) as error:
        services.record_handoff_answer(
            handoff_id=handoff.pk,
            department=department,
            kind=AnswerKind.RECEIVED,
            idempotency_key="received-0001",
            data={},
        )
    # then nothing is recorded
    assert error.value.code == "not_target_department"
    assert HandoffAnswer.objects.count() == 0
    assert applied == []


def test_answer_refused_by_handler_records_nothing(department, other_department) -> None:
    # given a handler that refuses
    def refuse(*, handoff, answer):
        raise DomainError("办件状态不允许", code="bad_state")

    register_answer_handler("test.subject", refuse)
    handoff = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.DELIVERED,
    )
    # when answered
    try:
        with pytest.raises(DomainError):
            services.record_handoff_answer(
                handoff_id=handoff.pk,
                department=other_department,
                kind=AnswerKind.DECISION,
                idempotency_key="decision-0002",
                data={},
            )
    finally:
        unregister_answer_handler("test.subject")
    # then no answer and the handoff is unchanged
    handoff.refresh_from_db()
    assert HandoffAnswer.objects.count() == 0
    assert handoff.state == HandoffState.DELIVERED


# --- dead letters -------------------------------------------------------------------------


def test_retry_dead_letter_gives_fresh_budget(
    department, other_department, dept_admin, django_capture_on_commit_callbacks
) -> None:
    # given a dead letter that used its attempts
    handoff = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.DEAD,
        attempts=3,
        last_error="HTTP 500",
    )
    # when an administrator retries it
    with django_capture_on_commit_callbacks() as callbacks:
        services.retry_handoff(handoff_id=handoff.pk, actor=dept_admin)
    # then it is pending with zero attempts and enqueued, audited
    handoff.refresh_from_db()
    assert (handoff.state, handoff.attempts) == (HandoffState.PENDING, 0)
    assert len(callbacks) == 1
    assert AuditEvent.objects.get(action="handoffs.retried").actor_id == dept_admin.pk


def test_reroute_dead_letter_to_another_department(
    department, other_department, dept_admin
) -> None:
    # given a dead letter sent to the wrong department
    from tests.core.factories import DepartmentFactory

    right = DepartmentFactory(name="南昌市行政审批局")
    handoff = HandoffFactory(
        source_department=department, target_department=other_department, state=HandoffState.DEAD
    )
    # when re-routed
    services.reroute_handoff(handoff_id=handoff.pk, target_department=right, actor=dept_admin)
    # then it targets the right department, pending
    handoff.refresh_from_db()
    assert (handoff.target_department_id, handoff.state) == (right.pk, HandoffState.PENDING)
    assert AuditEvent.objects.get(action="handoffs.rerouted").data["to_department"] == right.pk


def test_retry_of_a_live_handoff_is_refused(department, other_department, dept_admin) -> None:
    # given a pending handoff
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when retried
    with pytest.raises(DomainError) as error:
        services.retry_handoff(handoff_id=handoff.pk, actor=dept_admin)
    # then refused, nothing written
    assert error.value.code == "not_dead"
    assert AuditEvent.objects.filter(action="handoffs.retried").count() == 0
