"""Handoff figures with real processes: end-to-end push delivery and the pull inbox.

* ``handoffs_push``: a real Celery worker (2 processes) on the real Redis broker delivers to the
  department simulator (``manage.py department_simulator``, its own process, HTTP on loopback,
  verifying every signature). Two measurements:

  - *accept → acknowledged*: real cases, prepared in the ``submitted`` state beforehand, are
    accepted one after another by a clerk (``accept_case``: state change + outbox row in one
    transaction); the clock runs from each commit to the receiver's acknowledgement as the
    portal records it (``Handoff.acknowledged_at``: the simulator verified, stored and answered
    2xx, and the worker recorded that 2xx). Throughput over the whole batch, p50/p95 latency.
  - *burst*: 1,000 handoffs enqueued at once (the outbox write only), time until the last is
    acknowledged: the delivery pipeline's own ceiling.

* ``handoffs_pull``: the portal served by gunicorn (2 workers); the simulator in pull mode
  fetches ``/api/v1/handoffs/inbox/`` pages of 200 and acknowledges every handoff by id with
  its OAuth2 client-credentials token. Handoffs per second fetched and acknowledged.

Processes get the bench environment (database, Redis database) and are stopped afterwards.
Case test data comes from the test factories (factory-boy, a dev dependency like the bench).
"""

from __future__ import annotations

import os
import random
import signal
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from django.db import connection, transaction
from django.utils import timezone

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-handoffs-secret-0123456789abcdef"
CLIENT_SECRET = "bench-handoffs-client-secret"
WORKER_CONCURRENCY = 2


# --- processes ----------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise RuntimeError(f"timed out waiting for {what}")


class Processes:
    """Subprocesses started by a benchmark; all stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.env = {**os.environ, "CELERY_TASK_ALWAYS_EAGER": "false", "PYTHONUNBUFFERED": "1"}

    def start(self, name: str, command: Sequence[str], **env: str) -> subprocess.Popen[bytes]:
        log = (self.directory / f"{name}.log").open("ab")
        process = subprocess.Popen(
            list(command),
            cwd=ROOT,
            env={**self.env, **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.started.append((name, process))
        return process

    def log(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def worker(self, **env: str) -> None:
        from govportal.celery import app

        node = f"bench-{uuid.uuid4().hex[:6]}@{os.uname().nodename}"
        self.start(
            "worker",
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "govportal",
                "worker",
                "-l",
                "warning",
                "-c",
                str(WORKER_CONCURRENCY),
                "-n",
                node,
                "--without-gossip",
                "--without-mingle",
            ],
            LOG_LEVEL="WARNING",
            **env,
        )
        _wait(
            lambda: bool(app.control.ping(destination=[node], timeout=0.5)),
            timeout=90,
            what="the celery worker",
        )

    def simulator(self, *options: str) -> tuple[str, Path]:
        port = _free_port()
        record = self.directory / f"simulator-{port}.sqlite3"
        name = f"simulator-{port}"
        self.start(
            name,
            [
                sys.executable,
                "manage.py",
                "department_simulator",
                "--port",
                str(port),
                "--record",
                str(record),
                *options,
            ],
        )
        _wait(lambda: "simulator.ready" in self.log(name), timeout=60, what="the simulator")
        return f"http://127.0.0.1:{port}/hook", record

    def web(self) -> str:
        port = _free_port()
        self.start(
            "gunicorn",
            [
                sys.executable,
                "-m",
                "gunicorn",
                "govportal.wsgi:application",
                "-b",
                f"127.0.0.1:{port}",
                "-w",
                "2",
                "--log-level",
                "warning",
            ],
        )

        def up() -> bool:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                    return True
            except OSError:
                return False

        _wait(up, timeout=60, what="gunicorn")
        return f"http://127.0.0.1:{port}"

    def stop(self) -> None:
        for _, process in reversed(self.started):
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for _, process in reversed(self.started):
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def _received_at(record: Path) -> dict[str, float]:
    if not record.exists():
        return {}
    db = sqlite3.connect(f"file:{record}?mode=ro", uri=True, timeout=10)
    try:
        return dict(db.execute("SELECT idempotency_key, received_at FROM received"))
    finally:
        db.close()


def _acknowledged_at(keys: Iterable[str]) -> dict[str, float]:
    """Idempotency key → when the portal recorded the receiver's 2xx (acknowledged)."""
    from apps.handoffs.constants import HandoffState
    from apps.handoffs.models import Handoff

    rows = Handoff.objects.filter(
        idempotency_key__in=list(keys), state=HandoffState.ACKNOWLEDGED
    ).values_list("idempotency_key", "acknowledged_at")
    return {key: at.timestamp() for key, at in rows}


def _all_acknowledged(keys: Collection[str]) -> None:
    acknowledged = len(_acknowledged_at(keys))
    if acknowledged != len(keys):
        raise RuntimeError(f"only {acknowledged} of {len(keys)} handoffs acknowledged")


def _await_acknowledged(
    committed: dict[str, float], *, timeout: float, what: str
) -> tuple[dict[str, float], list[float]]:
    """Wait until every key in ``committed`` (key → commit time) is acknowledged: the
    acknowledgement times and each handoff's latency from commit to acknowledgement."""
    _wait(lambda: len(_acknowledged_at(committed)) == len(committed), timeout=timeout, what=what)
    _all_acknowledged(committed)
    acknowledged_at = _acknowledged_at(committed)
    return acknowledged_at, [acknowledged_at[key] - at for key, at in committed.items()]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


# --- data ---------------------------------------------------------------------------------


def _department(uscc_serial: int, name: str):
    from apps.core.models import AdministrativeLevel, Department, Region, RegionLevel
    from tests.core.factories import make_uscc

    region, _ = Region.objects.get_or_create(
        code="360000", defaults={"name": "江西省", "level": RegionLevel.PROVINCE}
    )
    department, _ = Department.objects.get_or_create(
        uscc=make_uscc(uscc_serial),
        defaults={"name": name, "region": region, "level": AdministrativeLevel.PROVINCE},
    )
    return department


def _push_endpoint(department, url: str) -> None:
    from apps.handoffs.constants import DeliveryMode
    from apps.handoffs.models import DepartmentEndpoint, SigningKey

    endpoint, _ = DepartmentEndpoint.objects.update_or_create(
        department=department,
        defaults={
            "mode": DeliveryMode.PUSH,
            "push_url": url,
            "timeout_seconds": 10,
            "max_attempts": 10,
            "is_active": True,
        },
    )
    endpoint.keys.all().delete()
    SigningKey.objects.create(endpoint=endpoint, key_id="bench", secret=SECRET)


def _submitted_cases(department, n: int) -> tuple[list[int], object]:
    """``n`` cases in the ``submitted`` state, and the clerk who will accept them."""
    from apps.cases import services as cases
    from apps.cases.models import Case
    from apps.cases.permissions import CaseActor
    from apps.catalog.constants import ItemStatus
    from apps.catalog.models import ServiceItem
    from apps.identity.constants import StaffRole
    from apps.identity.demo import make_id_number
    from apps.identity.models import StaffMembership, User
    from tests.cases.factories import FORM, pdf
    from tests.catalog.factories import published_item
    from tests.identity.factories import UserFactory, verified_user

    item = ServiceItem.objects.filter(department=department, status=ItemStatus.PUBLISHED).first()
    if item is None:
        _, version = published_item(department, basic_code=f"{random.randrange(10**11):012d}")
    else:
        version = item.current_version
    clerk, _ = User.objects.get_or_create(username="bench-handoffs-clerk")
    StaffMembership.objects.get_or_create(
        user=clerk, department=department, defaults={"role": StaffRole.CLERK}
    )
    rng = random.Random()
    birth = f"19{rng.randrange(50, 99)}0{rng.randrange(1, 9)}1{rng.randrange(0, 9)}"
    applicant = verified_user(
        "张伟",
        id_number=make_id_number("360102", birth, rng.randrange(1, 999)),
        user=UserFactory(username=f"bench-applicant-{uuid.uuid4().hex[:10]}"),
    )
    me = CaseActor.of(applicant)
    ids = []
    for _ in range(n):
        case = cases.create_draft(user=applicant, version=version, form_data=FORM)
        for slot in version.materials.all():
            cases.add_material_upload(case_id=case.pk, actor=me, slot_key=slot.key, upload=pdf())
        cases.submit_case(case_id=case.pk, actor=me)
        ids.append(case.pk)
    assert Case.objects.filter(pk__in=ids, status="submitted").count() == n
    return ids, clerk


# --- benchmarks ---------------------------------------------------------------------------


def _with_broker_on() -> Callable[[], None]:
    from govportal.celery import app

    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False

    def restore() -> None:
        app.conf.task_always_eager = previous

    return restore


def handoffs_push() -> list[dict]:
    from apps.cases import services as cases
    from apps.cases.permissions import CaseActor
    from apps.handoffs.constants import HandoffState
    from apps.handoffs.models import Handoff
    from apps.handoffs.services import SubjectRef, enqueue_handoff

    restore = _with_broker_on()
    directory = Path(tempfile.mkdtemp(prefix="bench-handoffs-"))
    processes = Processes(directory)
    results = []
    try:
        source = _department(990001, "基准测试受理部门")
        target = _department(990002, "基准测试承办部门")
        Handoff.objects.filter(target_department__in=[source, target]).delete()
        url, record = processes.simulator("--key", f"bench={SECRET}")
        _push_endpoint(source, url)
        _push_endpoint(target, url)
        n_cases = 200
        n_paced, paced_rate = 80, 4.0  # accepted at a steady 4 per second
        all_ids, clerk = _submitted_cases(source, n_cases + n_paced)
        case_ids, paced_ids = all_ids[:n_cases], all_ids[n_cases:]
        connection.close()
        processes.worker()
        actor = CaseActor.of(clerk)

        # accept → acknowledged, real cases one after another
        committed: dict[str, float] = {}
        started = time.time()
        for case_id in case_ids:
            cases.accept_case(case_id=case_id, actor=actor)
            committed[f"case:{case_id}:accepted"] = time.time()
        acknowledged_at, latencies = _await_acknowledged(
            committed, timeout=600, what="accepted cases to be acknowledged"
        )
        elapsed = max(acknowledged_at.values()) - started
        acknowledged = Handoff.objects.filter(
            subject_type="cases.case", state=HandoffState.ACKNOWLEDGED, target_department=source
        ).count()
        stored = len(set(_received_at(record)) & set(committed))
        if stored != n_cases:
            raise RuntimeError(f"the receiver stored {stored} of {n_cases} handoffs")
        results.append(
            {
                "metric": "handoffs end to end, accept_case commit → receiver acknowledged",
                "value": round(n_cases / elapsed, 1),
                "unit": "handoffs/s",
                "handoffs": n_cases,
                "acknowledged": acknowledged,
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
                "accept_rate_per_s": round(n_cases / (max(committed.values()) - started), 1),
                "worker_processes": WORKER_CONCURRENCY,
                "loadavg_1m": round(os.getloadavg()[0], 1),
            }
        )

        # latency when the pipeline is not saturated: acceptances at a steady rate
        paced: dict[str, float] = {}
        started = time.time()
        for n, case_id in enumerate(paced_ids):
            time.sleep(max(0.0, started + n / paced_rate - time.time()))
            cases.accept_case(case_id=case_id, actor=actor)
            paced[f"case:{case_id}:accepted"] = time.time()
        _, latencies = _await_acknowledged(
            paced, timeout=600, what="paced acceptances to be acknowledged"
        )
        results.append(
            {
                "metric": (
                    f"handoff latency at a steady {paced_rate:g} acceptances/s, "
                    "accept_case commit → receiver acknowledged"
                ),
                "value": round(statistics.median(latencies) * 1000, 1),
                "unit": "ms (p50)",
                "handoffs": n_paced,
                "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
                "max_ms": round(max(latencies) * 1000, 1),
                "worker_processes": WORKER_CONCURRENCY,
                "loadavg_1m": round(os.getloadavg()[0], 1),
            }
        )

        # burst: the delivery pipeline's ceiling
        n_burst = 1000
        tag = uuid.uuid4().hex[:8]
        burst_committed: dict[str, float] = {}
        started = time.time()
        for start in range(0, n_burst, 100):
            with transaction.atomic():
                batch = [
                    enqueue_handoff(
                        subject=SubjectRef("bench.subject", f"{tag}-{i}"),
                        event="bench.burst",
                        source_department=source,
                        target_department=target,
                        payload={"i": i},
                    )
                    for i in range(start, start + 100)
                ]
            now = time.time()
            burst_committed.update({h.idempotency_key: now for h in batch})
        enqueued = time.time() - started
        acknowledged_at, latencies = _await_acknowledged(
            burst_committed, timeout=900, what="the burst to be acknowledged"
        )
        elapsed = max(acknowledged_at.values()) - started
        results.append(
            {
                "metric": "handoffs burst of 1000 enqueued at once → all acknowledged",
                "value": round(n_burst / elapsed, 1),
                "unit": "handoffs/s",
                "handoffs": n_burst,
                "enqueue_s": round(enqueued, 2),
                "p50_ms": round(statistics.median(latencies) * 1000, 1),
                "p95_ms": round(_percentile(latencies, 0.95) * 1000, 1),
                "worker_processes": WORKER_CONCURRENCY,
                "loadavg_1m": round(os.getloadavg()[0], 1),
            }
        )
    finally:
        processes.stop()
        restore()
    return results


def handoffs_pull() -> list[dict]:
    return [_pull(ack="batch", n=2000), _pull(ack="single", n=300)]


def _pull(*, ack: str, n: int) -> dict:
    from oauth2_provider.models import Application

    from apps.handoffs.constants import AttemptOutcome, DeliveryMode, HandoffState
    from apps.handoffs.models import DepartmentEndpoint, Handoff, HandoffAttempt
    from apps.identity.models import ApiClient

    directory = Path(tempfile.mkdtemp(prefix="bench-handoffs-pull-"))
    processes = Processes(directory)
    try:
        source = _department(990001, "基准测试受理部门")
        target = _department(990003, "基准测试拉取部门")
        Handoff.objects.filter(target_department=target).delete()
        DepartmentEndpoint.objects.update_or_create(
            department=target, defaults={"mode": DeliveryMode.PULL, "push_url": ""}
        )
        application, _ = Application.objects.get_or_create(
            name="bench-handoffs-pull",
            defaults={
                "client_type": Application.CLIENT_CONFIDENTIAL,
                "authorization_grant_type": Application.GRANT_CLIENT_CREDENTIALS,
                "client_secret": CLIENT_SECRET,
            },
        )
        ApiClient.objects.get_or_create(
            application=application, defaults={"department": target, "allowed_scopes": "handoffs"}
        )
        # n handoffs already delivered to the inbox (what the worker's claim leaves behind)
        now = timezone.now()
        tag = uuid.uuid4().hex[:8]
        rows = Handoff.objects.bulk_create(
            [
                Handoff(
                    subject_type="bench.subject",
                    subject_id=f"{tag}-{i}",
                    event="bench.pull",
                    source_department=source,
                    target_department=target,
                    payload={"i": i},
                    state=HandoffState.DELIVERED,
                    mode=DeliveryMode.PULL,
                    attempts=1,
                    delivered_at=now,
                )
                for i in range(n)
            ]
        )
        HandoffAttempt.objects.bulk_create(
            [
                HandoffAttempt(
                    handoff=row, number=1, mode=DeliveryMode.PULL, outcome=AttemptOutcome.DELIVERED
                )
                for row in rows
            ]
        )
        connection.close()
        portal = processes.web()
        started = time.time()
        _, record = processes.simulator(
            "--mode",
            "pull",
            "--portal-url",
            portal,
            "--client-id",
            application.client_id,
            "--client-secret",
            CLIENT_SECRET,
            "--poll-limit",
            "200",
            "--poll-interval",
            "0.05",
            "--ack",
            ack,
        )
        keys = set(
            Handoff.objects.filter(target_department=target).values_list(
                "idempotency_key", flat=True
            )
        )

        def done() -> bool:
            return not Handoff.objects.filter(
                target_department=target, state=HandoffState.DELIVERED
            ).exists()

        _wait(done, timeout=600, what="the inbox to be drained")
        received = _received_at(record)
        first = min(received.values())
        last_ack = Handoff.objects.filter(target_department=target).order_by("-acknowledged_at")[0]
        elapsed = last_ack.acknowledged_at.timestamp() - first
        assert set(received) == keys
        what = "one batch ack per page" if ack == "batch" else "one ack request per handoff"
        result = {
            "metric": f"pull inbox: handoffs fetched (pages of 200) and acknowledged, {what}",
            "value": round(n / elapsed, 1),
            "unit": "handoffs/s",
            "handoffs": n,
            "web_workers": 2,
            "simulator_start_to_done_s": round(time.time() - started, 1),
            "loadavg_1m": round(os.getloadavg()[0], 1),
        }
    finally:
        processes.stop()
    return result
