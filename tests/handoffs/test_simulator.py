"""The department simulator as a separate process, over HTTP on loopback.

The portal's own delivery service pushes to it (in the test process: the worker tier is in
test_faults.py); raw requests check the simulator's verifier refuses what it must.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from django.utils import timezone

from apps.handoffs import services, signing
from apps.handoffs.constants import AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.models import Handoff, HandoffAnswer, HandoffAttempt
from tests.conftest import wait_until
from tests.core.factories import DepartmentFactory
from tests.handoffs.factories import DepartmentEndpointFactory, HandoffFactory, SigningKeyFactory
from tests.handoffs.processes import SimulatorProcess
from tests.identity.factories import ApiClientFactory

SECRET = "simulator-secret-0123456789abcdef0123"


def _push_department(department, simulator_url, *, keys=(("k1", SECRET),), timeout=2):
    endpoint = DepartmentEndpointFactory(
        department=department,
        mode=DeliveryMode.PUSH,
        push_url=simulator_url,
        timeout_seconds=timeout,
        max_attempts=5,
    )
    for key_id, secret in keys:
        SigningKeyFactory(endpoint=endpoint, key_id=key_id, secret=secret)
    return endpoint


def _due_again(handoff: Handoff) -> None:
    """Make a retry due now (instead of waiting out the backoff)."""
    Handoff.objects.filter(pk=handoff.pk).update(next_attempt_at=timezone.now())


@pytest.mark.django_db
def test_portal_push_is_verified_stored_once_and_acknowledged(
    department, other_department, department_simulator
) -> None:
    # given a push department whose system is the simulator, holding the same key
    simulator = department_simulator("--key", f"k1={SECRET}")
    _push_department(other_department, simulator.url)
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when the portal delivers it, and delivers it again (as after a lost acknowledgement)
    first = services.deliver_handoff(handoff_id=handoff.pk)
    Handoff.objects.filter(pk=handoff.pk).update(state=HandoffState.PENDING)
    second = services.deliver_handoff(handoff_id=handoff.pk)
    # then both pushes were verified and acknowledged, and the key was stored exactly once
    assert (first, second) == ("acknowledged", "acknowledged")
    assert simulator.received_keys() == [handoff.idempotency_key]
    assert simulator.outcomes() == {"stored": 1, "duplicate": 1}
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.ACKNOWLEDGED


@pytest.mark.django_db
def test_simulator_refuses_tampered_wrong_key_old_and_replayed_requests(
    department_simulator,
) -> None:
    # given the simulator holding key k1
    simulator = department_simulator("--key", f"k1={SECRET}", "--replay-window", "300")
    body = json.dumps({"handoff_id": 1, "idempotency_key": "key-1", "delivery_id": "d1"}).encode()

    def post(headers: dict, data: bytes) -> requests.Response:
        return requests.post(simulator.url, data=data, headers=headers, timeout=5)

    def signed(data: bytes, *, secret: str = SECRET, timestamp: int | None = None) -> dict:
        timestamp = timestamp or int(time.time())
        return {
            signing.TIMESTAMP_HEADER: str(timestamp),
            signing.SIGNATURE_HEADER: signing.signature_header([("k1", secret)], timestamp, data),
        }

    valid = signed(body)
    # when a valid push, its exact replay, a tampered body, a wrong key and an old timestamp
    # are sent over HTTP
    responses = {
        "valid": post(valid, body),
        "replayed": post(valid, body),
        "tampered": post(signed(body), body.replace(b"key-1", b"key-2")),
        "wrong_key": post(signed(body, secret="not-the-departments-key-000000000"), body),
        "old": post(signed(body, timestamp=int(time.time()) - 301), body),
    }
    # then only the valid one is accepted; the others are 401 with the reason
    assert {name: r.status_code for name, r in responses.items()} == {
        "valid": 200,
        "replayed": 401,
        "tampered": 401,
        "wrong_key": 401,
        "old": 401,
    }
    assert responses["replayed"].json() == {"error": "replayed"}
    assert responses["tampered"].json() == {"error": "bad_signature"}
    assert responses["old"].json() == {"error": "stale_timestamp"}
    # and only the valid one was stored
    assert simulator.received_keys() == ["key-1"]
    assert simulator.outcomes() == {
        "stored": 1,
        "refused_replayed": 1,
        "refused_bad_signature": 2,
        "refused_stale_timestamp": 1,
    }


@pytest.mark.django_db
def test_key_rotation_end_to_end(department, other_department, department_simulator) -> None:
    # given the portal mid-rotation (new key k2 added, old k1 still active) and a department
    # that installed only the new key
    simulator = department_simulator("--key", "k2=the-new-secret-0000000000000000")
    endpoint = _push_department(
        other_department,
        simulator.url,
        keys=(("k1", SECRET), ("k2", "the-new-secret-0000000000000000")),
    )
    handoff = HandoffFactory(source_department=department, target_department=other_department)
    # when delivered
    outcome = services.deliver_handoff(handoff_id=handoff.pk)
    # then the department accepts it with the new key
    assert outcome == "acknowledged"
    assert simulator.received_keys() == [handoff.idempotency_key]
    assert '"key_id": "k2"' in simulator.log()
    # and when the portal retires k2 and signs with k1 only, the department refuses (401):
    # a 4xx never heals by retrying, so the handoff is a dead letter at once
    endpoint.keys.filter(key_id="k2").update(is_active=False)
    refused = HandoffFactory(source_department=department, target_department=other_department)
    assert services.deliver_handoff(handoff_id=refused.pk) == "dead"
    assert HandoffAttempt.objects.get(handoff=refused).status_code == 401


@pytest.mark.django_db
def test_fault_knobs_500_timeout_and_4xx(
    department, other_department, department_simulator, settings
) -> None:
    # given three simulated departments: one failing with 500 for a while, one too slow for
    # the portal's 1 s timeout, one refusing with 422
    settings.HANDOFF_RETRY_BASE_SECONDS = 0.01
    failing = department_simulator("--key", f"k1={SECRET}", "--fail-for-seconds", "600")
    slow = department_simulator(
        "--key", f"k1={SECRET}", "--timeout-rate", "1", "--timeout-sleep", "1.5"
    )
    refusing = department_simulator("--key", f"k1={SECRET}", "--status", "422")
    outcomes = {}
    for name, simulator in (("failing", failing), ("slow", slow), ("refusing", refusing)):
        target = DepartmentFactory()
        _push_department(target, simulator.url, timeout=1)
        handoff = HandoffFactory(source_department=department, target_department=target)
        # when the portal delivers to each
        outcomes[name] = (handoff, services.deliver_handoff(handoff_id=handoff.pk))
    # then 500 and the timeout are retried, 422 is a dead letter at once
    assert {name: outcome for name, (_, outcome) in outcomes.items()} == {
        "failing": "retry",
        "slow": "retry",
        "refusing": "dead",
    }
    assert failing.outcomes() == {"fault_500": 1}
    assert refusing.outcomes() == {"fault_422": 1}
    assert failing.received_count() == refusing.received_count() == 0
    # and the slow department did the work anyway: the portal's retry is acknowledged and
    # recognised as a duplicate, so the key is stored once
    slow_handoff = outcomes["slow"][0]
    assert wait_until(lambda: slow.received_count() == 1, timeout=10)
    _due_again(slow_handoff)
    assert services.deliver_handoff(handoff_id=slow_handoff.pk) in ("retry", "acknowledged")
    assert wait_until(lambda: slow.outcomes().get("duplicate", 0) >= 1, timeout=10)
    assert slow.received_keys() == [slow_handoff.idempotency_key]
    assert slow.outcomes()["fault_timeout"] >= 1
    attempts = HandoffAttempt.objects.filter(handoff=slow_handoff).order_by("number")
    assert attempts[0].outcome == AttemptOutcome.RETRY
    assert attempts[0].error.startswith("timeout after 1s")


@pytest.mark.django_db(transaction=True)
def test_pull_mode_polls_acknowledges_and_answers_with_client_credentials(
    department, other_department, department_simulator, live_server, settings
) -> None:
    # given a pull department with an OAuth2 client, and two handoffs in its inbox
    settings.SITE_URL = live_server.url
    DepartmentEndpointFactory(department=other_department, mode=DeliveryMode.PULL)
    api_client = ApiClientFactory(department=other_department, allowed_scopes="handoffs")
    handoffs = HandoffFactory.create_batch(
        2, source_department=department, target_department=other_department
    )
    for handoff in handoffs:
        assert services.deliver_handoff(handoff_id=handoff.pk) == "delivered"
    # when its system (the simulator, pull mode) polls the portal over HTTP
    simulator = department_simulator(
        "--mode",
        "pull",
        "--portal-url",
        live_server.url,
        "--client-id",
        api_client.application.client_id,
        "--client-secret",
        "test-client-secret",
        "--answer",
        "decision",
        "--poll-interval",
        "0.2",
    )
    # then it stores each handoff once, acknowledges it by id, and posts a decision back
    assert wait_until(lambda: HandoffAnswer.objects.count() == 2, timeout=30), simulator.log()
    assert sorted(simulator.received_keys()) == sorted(h.idempotency_key for h in handoffs)
    assert set(Handoff.objects.values_list("state", flat=True)) == {HandoffState.ACKNOWLEDGED}
    assert sorted(HandoffAnswer.objects.values_list("kind", "idempotency_key")) == sorted(
        ("decision", f"{h.idempotency_key}:decision") for h in handoffs
    )
    assert {row[3] for row in simulator.answers()} == {201}


def test_simulator_refuses_bad_configuration(tmp_path) -> None:
    # given push mode without any key
    simulator = SimulatorProcess([], directory=tmp_path)
    # when started
    with pytest.raises(RuntimeError) as error:
        simulator.start(timeout=30)
    # then it exits with a clear message
    assert "push mode needs at least one --key" in str(error.value)
