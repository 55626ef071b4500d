"""Fault injection with real processes: zero loss, effectively once at the receiver.

Every test runs a real Celery worker process (with beat, so the sweeper runs) on a real Redis
broker, and the department simulator as a separate process receiving signed pushes over HTTP on
loopback. Faults: kill -9 of the worker mid-batch, a restart of Redis (a private redis-server,
so the shared one is never touched) mid-batch, a receiver failing with 500s and time-outs for a
while, a receiver refusing with 4xx. Afterwards every handoff is acknowledged or dead-lettered
as expected, the receiver stored each idempotency key exactly once, and no case is stuck. The
counts are printed on the terminal (without ``-s``) and appended to
``var/test-logs/handoff-faults.jsonl``.

Retry and sweeper intervals are shortened for the worker subprocess through its environment;
the Redis visibility timeout keeps its production value (600 s), which shows recovery does not
depend on it.
"""

from __future__ import annotations

import ast
import json
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import pytest
import redis

from django.db import transaction
from django.db.models import Count

from apps.handoffs import services
from apps.handoffs.constants import AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.models import Handoff, HandoffAnswer, HandoffAttempt
from apps.handoffs.services import SubjectRef
from govportal.celery import app as celery_app
from tests.conftest import LOG_DIR, wait_until
from tests.handoffs.factories import DepartmentEndpointFactory, SigningKeyFactory
from tests.handoffs.processes import PrivateRedis

pytestmark = [pytest.mark.worker, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SECRET = "fault-injection-secret-0123456789abcdef"
# Short intervals for the worker subprocess (production: 5 s, 300 s, 60 s, 120 s, 180 s).
FAST = {
    "HANDOFF_RETRY_BASE_SECONDS": "0.2",
    "HANDOFF_RETRY_CAP_SECONDS": "1",
    "HANDOFF_SWEEP_INTERVAL_SECONDS": "1",
    "HANDOFF_SWEEP_GRACE_SECONDS": "5",
    "HANDOFF_SENDING_STALE_SECONDS": "5",
    "LOG_LEVEL": "WARNING",
}
BATCH = 500
# Real cases in the kill -9 batch (the rest are synthetic subjects; creating 500 real cases
# would take most of the test's time).
N_CASES = 40


# --- helpers ------------------------------------------------------------------------------


@pytest.fixture
def report(request) -> Callable[[str, dict], None]:
    """Print counts on the terminal even without ``-s``, and keep them in the test log."""
    terminal = request.config.pluginmanager.getplugin("terminalreporter")
    capture = request.config.pluginmanager.getplugin("capturemanager")

    def write(name: str, counts: dict) -> None:
        line = f"[handoff faults] {name}: " + " ".join(f"{k}={v}" for k, v in counts.items())
        if terminal is not None and capture is not None:
            # Output capture is suspended for these lines so they show without ``-s``.
            with capture.global_and_fixture_disabled():
                terminal.write_line("")
                terminal.write_line(line)
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        with (LOG_DIR / "handoff-faults.jsonl").open("a") as log:
            log.write(json.dumps({"test": name, "at": time.time(), **counts}) + "\n")

    return write


@contextmanager
def publishing_to(url: str) -> Iterator[None]:
    """Point this (test) process's Celery publisher at another broker for the block."""
    conf = celery_app.conf
    previous = conf.broker_url

    def reset_pools() -> None:
        celery_app._pool = None
        celery_app.amqp._producer_pool = None

    conf.broker_url = url
    reset_pools()
    try:
        yield
    finally:
        conf.broker_url = previous
        reset_pools()


def push_department(department, simulator_url: str, *, max_attempts: int = 30) -> None:
    endpoint = DepartmentEndpointFactory(
        department=department,
        mode=DeliveryMode.PUSH,
        push_url=simulator_url,
        timeout_seconds=1,
        max_attempts=max_attempts,
    )
    SigningKeyFactory(endpoint=endpoint, key_id="k1", secret=SECRET)


def enqueue_batch(source, target, n: int, *, chunk: int = 100, offset: int = 0) -> list[int]:
    """``n`` handoffs written the way a service writes them: in committed transactions."""
    ids: list[int] = []
    for start in range(offset, offset + n, chunk):
        with transaction.atomic():
            for i in range(start, min(start + chunk, offset + n)):
                handoff = services.enqueue_handoff(
                    subject=SubjectRef("test.subject", str(i), f"FAULT-{i}"),
                    event="case.accepted",
                    source_department=source,
                    target_department=target,
                    payload={"n": i},
                )
                ids.append(handoff.pk)
    return ids


def sweeper_recoveries(worker_log: str) -> dict[str, int]:
    """What the beat sweeper re-published, summed over its runs, from the worker's log: the
    return value of every ``handoffs.sweep`` task (Celery logs it at INFO)."""
    totals = {"requeued_sending": 0, "requeued_pending": 0, "dead": 0, "runs": 0}
    for line in worker_log.splitlines():
        if "Task handoffs.sweep[" not in line or " succeeded in " not in line:
            continue
        try:
            result = ast.literal_eval(line[line.index("{") :])
        except (ValueError, SyntaxError):
            continue
        totals["runs"] += 1
        for key in ("requeued_sending", "requeued_pending", "dead"):
            totals[key] += int(result.get(key, 0))
    return totals


def submitted_cases(department, n: int) -> tuple[list, object]:
    """``n`` real cases of ``department``, submitted and waiting for acceptance, and a clerk."""
    from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

    version, clerk, reviewer = (
        item_version(department),
        clerk_of(department),
        reviewer_of(department),
    )
    cases = [
        case_in("submitted", version=version, applicant=citizen(), clerk=clerk, reviewer=reviewer)
        for _ in range(n)
    ]
    return cases, clerk


def states() -> dict[str, int]:
    return dict(Handoff.objects.values_list("state").annotate(n=Count("pk")).order_by())


def settled(n: int) -> Callable[[], bool]:
    """All ``n`` handoffs in a final state (acknowledged or dead)."""
    final = (HandoffState.ACKNOWLEDGED, HandoffState.DEAD)

    def check() -> bool:
        return Handoff.objects.filter(state__in=final).count() == n

    return check


def counts_for(simulator, n: int) -> dict[str, int]:
    outcomes = simulator.outcomes()
    attempts = dict(
        HandoffAttempt.objects.values_list("outcome").annotate(n=Count("pk")).order_by()
    )
    return {
        "handoffs": n,
        **{f"state_{k}": v for k, v in sorted(states().items())},
        "attempts": sum(attempts.values()),
        **{f"attempts_{k}": v for k, v in sorted(attempts.items())},
        "receiver_requests": sum(outcomes.values()),
        **{f"receiver_{k}": v for k, v in sorted(outcomes.items())},
        "keys_stored": simulator.received_count(),
    }


def assert_effectively_once(simulator) -> None:
    """The receiver stored exactly the acknowledged handoffs' keys, each once."""
    stored = simulator.received_keys()
    acknowledged = set(
        Handoff.objects.filter(state=HandoffState.ACKNOWLEDGED).values_list(
            "idempotency_key", flat=True
        )
    )
    assert len(stored) == len(set(stored))
    assert set(stored) == acknowledged
    # "stored" is logged once per key the receiver processed; everything else was a duplicate
    # acknowledged again without processing.
    assert simulator.outcomes().get("stored", 0) == len(acknowledged)
    assert not Handoff.objects.filter(
        state__in=(HandoffState.PENDING, HandoffState.SENDING, HandoffState.DELIVERED)
    ).exists()


# --- the tests ----------------------------------------------------------------------------


def test_kill_worker_mid_batch(
    department,
    other_department,
    department_simulator,
    celery_worker_factory,
    live_server,
    report,
) -> None:
    # given a push department (the simulator) that posts a decision back for every case it
    # receives, and a worker with beat (sweeper every second); 0.1 s per push, so pushes are in
    # flight most of the time
    from apps.cases import services as case_services
    from apps.cases.constants import CaseStatus
    from apps.cases.models import Case, CaseEvent
    from apps.cases.permissions import CaseActor
    from tests.identity.factories import ApiClientFactory

    cases, clerk = submitted_cases(other_department, N_CASES)
    api_client = ApiClientFactory(department=other_department, allowed_scopes="handoffs")
    simulator = department_simulator(
        "--key",
        f"k1={SECRET}",
        "--latency",
        "0.1",
        "--portal-url",
        live_server.url,
        "--client-id",
        api_client.application.client_id,
        "--client-secret",
        "test-client-secret",
        "--answer",
        "decision",
        "--answer-subject",
        "cases.case",
        "--answer-delay",
        "0.2",
        "--complete",
    )
    push_department(other_department, simulator.url)
    worker = celery_worker_factory(env={**FAST, "SITE_URL": live_server.url}, beat=True)
    # when a mixed batch of 500 is written - synthetic handoffs, then the real cases accepted by
    # a clerk (each handoff in its accept transaction), then more synthetic ones - ...
    started = time.monotonic()
    ids = enqueue_batch(department, other_department, 150)
    for case in cases:
        case_services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    ids += enqueue_batch(department, other_department, BATCH - 150 - N_CASES, offset=150)
    # ... and the worker is killed with SIGKILL while pushes are in flight
    sending = Handoff.objects.filter(state=HandoffState.SENDING)
    assert wait_until(
        lambda: simulator.received_count() >= 100 and sending.exists(), timeout=90, interval=0.02
    ), worker.log()[-3000:]
    worker.kill()
    at_kill = simulator.received_count()
    in_flight = set(sending.values_list("pk", flat=True))
    unacknowledged_at_kill = Handoff.objects.exclude(state=HandoffState.ACKNOWLEDGED).count()
    # and a new worker starts
    worker.start()
    # then every handoff is acknowledged, each key stored exactly once at the receiver
    assert wait_until(settled(BATCH), timeout=180), (states(), worker.log()[-3000:])
    # the kill did hit work in flight: handoffs were mid-push and others not yet delivered
    assert at_kill < BATCH, "the kill must happen mid-batch"
    assert in_flight, "the kill must land while pushes are in flight"
    assert unacknowledged_at_kill > len(in_flight)
    # and the sweeper recovered them: every push cut off by the kill was declared lost and
    # re-published by the sweeper (the Redis visibility timeout, 600 s, played no part)
    recovered = sweeper_recoveries(worker.log())
    lost = set(
        HandoffAttempt.objects.filter(outcome=AttemptOutcome.LOST).values_list(
            "handoff_id", flat=True
        )
    )
    assert in_flight <= lost
    assert recovered["requeued_sending"] >= len(in_flight)
    assert states() == {HandoffState.ACKNOWLEDGED: BATCH}
    assert_effectively_once(simulator)
    # and no case is stuck: each was received once, decided and completed once through the
    # department's answer over HTTP
    case_ids = [case.pk for case in cases]

    def completed() -> bool:
        done = Case.objects.filter(pk__in=case_ids, status=CaseStatus.COMPLETED).count()
        return done == N_CASES

    assert wait_until(completed, timeout=60), simulator.log()[-3000:]
    assert sorted(
        Handoff.objects.filter(subject_type="cases.case").values_list("subject_id", flat=True)
    ) == sorted(str(pk) for pk in case_ids)
    decided = CaseEvent.objects.filter(case_id__in=case_ids, action="decide")
    assert decided.count() == N_CASES
    assert HandoffAnswer.objects.filter(kind="decision", handler_applied=True).count() == N_CASES
    report(
        "kill -9 worker mid-batch",
        {
            "seconds": round(time.monotonic() - started, 1),
            "real_cases": N_CASES,
            "cases_completed": N_CASES,
            "received_at_kill": at_kill,
            "sending_at_kill": len(in_flight),
            "unacknowledged_at_kill": unacknowledged_at_kill,
            "sweeper_requeued_sending": recovered["requeued_sending"],
            "sweeper_requeued_pending": recovered["requeued_pending"],
            **counts_for(simulator, BATCH),
        },
    )


def test_redis_restart_mid_batch(
    department, other_department, department_simulator, celery_worker_factory, report
) -> None:
    # given a private Redis (never the shared one) as broker of this test and its worker
    private = PrivateRedis()
    private.start()
    try:
        with publishing_to(private.url):
            simulator = department_simulator("--key", f"k1={SECRET}", "--latency", "0.01")
            push_department(other_department, simulator.url)
            worker = celery_worker_factory(env={**FAST, "REDIS_URL": private.url}, beat=True)
            # when 500 handoffs are enqueued and Redis is restarted mid-batch, empty (no
            # persistence: every queued message is lost)
            started = time.monotonic()
            enqueue_batch(department, other_department, BATCH)
            assert wait_until(lambda: simulator.received_count() >= 100, timeout=60), worker.log()[
                -3000:
            ]
            queued_before = redis.Redis.from_url(private.url).llen("celery")
            private.restart(down_for=1.0)
            at_restart = simulator.received_count()
            queued_after = redis.Redis.from_url(private.url).llen("celery")
            # then the sweeper re-publishes what was lost and every handoff is acknowledged
            assert wait_until(settled(BATCH), timeout=150), (states(), worker.log()[-3000:])
            # the restart did lose queued work, and the sweeper recovered it
            assert at_restart < BATCH, "the restart must happen mid-batch"
            assert queued_before > 0, "tasks must be waiting in Redis when it restarts"
            assert queued_after < queued_before, "the restart must lose the queued tasks"
            recovered = sweeper_recoveries(worker.log())
            assert recovered["requeued_pending"] + recovered["requeued_sending"] > 0
            assert states() == {HandoffState.ACKNOWLEDGED: BATCH}
            assert_effectively_once(simulator)
            report(
                "Redis restart mid-batch",
                {
                    "seconds": round(time.monotonic() - started, 1),
                    "received_at_restart": at_restart,
                    "tasks_queued_before_restart": queued_before,
                    "tasks_queued_after_restart": queued_after,
                    "sweeper_requeued_pending": recovered["requeued_pending"],
                    "sweeper_requeued_sending": recovered["requeued_sending"],
                    **counts_for(simulator, BATCH),
                },
            )
            worker.stop()
    finally:
        private.kill()


def test_receiver_failing_with_500s_and_timeouts_for_a_while(
    department, other_department, department_simulator, celery_worker_factory, report
) -> None:
    # given a worker, then a department that answers 500 to everything for its first 4 s and
    # afterwards lets 5 % of pushes run past the portal's 1 s time-out (processing them anyway)
    worker = celery_worker_factory(env=FAST, beat=True)
    simulator = department_simulator(
        "--key",
        f"k1={SECRET}",
        "--fail-for-seconds",
        "4",
        "--timeout-rate",
        "0.05",
        "--timeout-sleep",
        "1.5",
        "--seed",
        "6",
    )
    push_department(other_department, simulator.url, max_attempts=30)
    n = 200
    # when 200 handoffs are enqueued
    enqueue_batch(department, other_department, n)
    # then all are acknowledged in the end, and each key was processed once
    assert wait_until(settled(n), timeout=150), (states(), worker.log()[-3000:])
    assert states() == {HandoffState.ACKNOWLEDGED: n}
    assert_effectively_once(simulator)
    outcomes = simulator.outcomes()
    assert outcomes["fault_500"] > 0
    assert outcomes["fault_timeout"] > 0
    # a push that timed out was processed by the slow department anyway: its retry was a
    # duplicate, acknowledged without processing it twice
    assert outcomes.get("duplicate", 0) > 0
    retried = HandoffAttempt.objects.filter(outcome=AttemptOutcome.RETRY)
    assert retried.filter(status_code=500).exists()
    assert retried.filter(error__startswith="timeout after").exists()
    report("receiver 500s and timeouts", counts_for(simulator, n))


def test_receiver_refusing_with_4xx(
    department, other_department, department_simulator, celery_worker_factory, report
) -> None:
    # given a department that refuses 30 % of pushes with 422
    simulator = department_simulator(
        "--key", f"k1={SECRET}", "--status", "422", "--status-rate", "0.3", "--seed", "7"
    )
    push_department(other_department, simulator.url, max_attempts=30)
    worker = celery_worker_factory(env=FAST, beat=True)
    n = 100
    # when 100 handoffs are enqueued
    enqueue_batch(department, other_department, n)
    # then the refused ones are dead letters after exactly one attempt, the others acknowledged
    assert wait_until(settled(n), timeout=120), (states(), worker.log()[-3000:])
    refused = {
        row[0]
        for row in simulator.query(
            "SELECT idempotency_key FROM requests WHERE outcome = 'fault_422'"
        )
    }
    dead = Handoff.objects.filter(state=HandoffState.DEAD)
    assert 0 < len(refused) < n
    assert set(dead.values_list("idempotency_key", flat=True)) == refused
    assert set(dead.values_list("attempts", flat=True)) == {1}
    assert {h.last_error[:8] for h in dead} == {"HTTP 422"}
    assert states() == {
        HandoffState.DEAD: len(refused),
        HandoffState.ACKNOWLEDGED: n - len(refused),
    }
    assert_effectively_once(simulator)
    report("receiver 4xx", counts_for(simulator, n))


def test_accepted_cases_reach_the_department_and_its_decisions_come_back(
    department, department_simulator, celery_worker_factory, live_server, report
) -> None:
    # given the department's system (the simulator) with an OAuth2 client for the answer API,
    # answering "received" at once and a decision 0.5 s later
    from apps.cases import services as case_services
    from apps.cases.constants import CaseStatus, Decision
    from apps.cases.models import Case
    from apps.cases.permissions import CaseActor
    from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
    from tests.identity.factories import ApiClientFactory

    api_client = ApiClientFactory(department=department, allowed_scopes="handoffs")
    simulator = department_simulator(
        "--key",
        f"k1={SECRET}",
        "--portal-url",
        live_server.url,
        "--client-id",
        api_client.application.client_id,
        "--client-secret",
        "test-client-secret",
        "--answer",
        "both",
        "--answer-delay",
        "0.5",
        "--fail-rate",
        "0.2",
        "--seed",
        "3",
    )
    push_department(department, simulator.url)
    worker = celery_worker_factory(env={**FAST, "SITE_URL": live_server.url}, beat=True)
    version, clerk = item_version(department), clerk_of(department)
    reviewer = reviewer_of(department)
    cases = [
        case_in(
            CaseStatus.SUBMITTED,
            version=version,
            applicant=citizen(),
            clerk=clerk,
            reviewer=reviewer,
        )
        for _ in range(5)
    ]
    # when a clerk accepts them (the handoff is written in the accept transaction)
    for case in cases:
        case_services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    # then the department receives each, posts its decision back, and every case is decided
    ids = [case.pk for case in cases]

    def decided() -> bool:
        return Case.objects.filter(pk__in=ids, status=CaseStatus.DECIDED).count() == len(ids)

    assert wait_until(decided, timeout=90), (simulator.log()[-3000:], worker.log()[-3000:])
    assert set(Case.objects.filter(pk__in=ids).values_list("decision", flat=True)) == {
        Decision.APPROVED
    }
    assert states() == {HandoffState.ACKNOWLEDGED: len(ids)}
    assert sorted(simulator.received_keys()) == sorted(f"case:{pk}:accepted" for pk in ids)
    assert HandoffAnswer.objects.filter(kind="decision", handler_applied=True).count() == len(ids)
    assert HandoffAnswer.objects.filter(kind="received").count() == len(ids)
    assert_effectively_once(simulator)
    report("real cases, decisions posted back", counts_for(simulator, len(ids)))
