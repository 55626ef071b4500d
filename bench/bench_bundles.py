"""一件事一次办 figures with real processes: a Celery worker (2 processes, with beat so the
bundle sweeper runs) on the real Redis broker.

* **Fault run**: ``BENCH_BUNDLES`` (default 200) applications of a 新生儿出生-shaped bundle
  (出生医学证明 → 出生登记 → 医保参保) are submitted one after another while the worker starts
  their first children; the worker is killed (SIGKILL of its process group) once a quarter of
  them have a child case (submissions go on, their tasks waiting in Redis), and a new one started
  after the last submission. Then the first children are decided one after another and the
  worker is killed again once a quarter of the second children have started (the certificate
  number flowing into 出生登记); a new one starts after the last decision.
  Printed: applications submitted per second, child cases created, duplicates (cases of the
  applicant not linked to exactly one child), lost (children that should have started and did
  not), children left claimed, and the time from each restart (worker start included) to the
  last child started.
* **Orchestration latency**: with a steady worker, first children are decided one after another
  (``decide_case`` commits; the cases hook enqueues the bundle's advance); the clock runs from
  the decision's commit to the next child's case being submitted (``BundleChild.started_at``).
  Also submission → first child case submitted. p50/p95.
* **End to end**: submission → the last of the three children *handed off* to the department
  (a signed push to the department simulator, ``manage.py department_simulator``, its own HTTP
  process, acknowledged); the window accepts the bundle once (一窗受理, later children accepted
  in the clerk's name as they start) and the bench decides each child as soon as its handoff is
  acknowledged, so the figure is the portal's own orchestration and delivery time.
* **Guide page**: ``GET /bundles/<code>/`` (questions, components, deduplicated materials,
  savings from the catalogue) through Django's test client with ``BENCH_BUNDLES_PUBLISHED``
  (default 200) bundles published; p50/p95 and the query count.
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from bench.bench_handoffs import (
    SECRET,
    Processes,
    _department,
    _percentile,
    _push_endpoint,
    _wait,
    _with_broker_on,
)

N_APPLICATIONS = int(os.environ.get("BENCH_BUNDLES", "200"))
N_PUBLISHED = int(os.environ.get("BENCH_BUNDLES_PUBLISHED", "200"))
N_LATENCY = int(os.environ.get("BENCH_BUNDLES_LATENCY", "30"))
N_END_TO_END = int(os.environ.get("BENCH_BUNDLES_END_TO_END", "20"))
GUIDE_REQUESTS = int(os.environ.get("BENCH_BUNDLES_GUIDE_REQUESTS", "100"))
# Short recovery intervals for the worker (production: 60 s sweep, 300 s lease, 120 s stale).
WORKER_ENV = {
    "BUNDLE_SWEEP_INTERVAL_SECONDS": "2",
    "BUNDLE_CLAIM_LEASE_SECONDS": "3",
    "BUNDLE_SWEEP_STALE_SECONDS": "5",
    "LOG_LEVEL": "WARNING",
}


def _setup():
    from apps.core import calendar
    from apps.core.services import seed_calendar
    from apps.licences.seed import ensure_seed_catalogue
    from tests.bundles.factories import birth_items
    from tests.catalog.factories import published_item

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()
    ensure_seed_catalogue()
    # A department of its own per run: the test factories number catalogue items from 1.
    department = _department(random.randrange(900000, 990000), "基准测试一件事牵头部门")
    items = birth_items(department)
    # The certificate's number flows as a result field; without a result licence type no
    # sealed PDF is rendered per decision (seconds of worker time each: bench licences).
    items["cert"], _v = published_item(department, name="出生医学证明办理（基准）")
    return department, items


def _applicant():
    """A verified citizen of its own (the test factories number identity numbers from 1)."""
    from apps.identity.demo import make_id_number
    from tests.identity.factories import UserFactory, verified_user

    rng = random.Random()
    birth = f"19{rng.randrange(50, 99)}0{rng.randrange(1, 9)}1{rng.randrange(0, 9)}"
    return verified_user(
        "张伟",
        id_number=make_id_number("360102", birth, rng.randrange(1, 999)),
        user=UserFactory(username=f"bench-bundles-{uuid.uuid4().hex[:10]}"),
    )


def _publish(department, items):
    """A birth bundle without the 社保卡 branch: three children per application."""
    from apps.bundles import services
    from tests.bundles.factories import birth_definition
    from tests.catalog.factories import superuser

    draft = birth_definition(
        department,
        items,
        code=f"bench-birth-{uuid.uuid4().hex[:8]}",
        components=[
            {"key": "cert", "item": items["cert"]},
            {"key": "hukou", "item": items["hukou"]},
            {"key": "insurance", "item": items["insurance"]},
        ],
        edges=[("cert", "hukou"), ("hukou", "insurance")],
        questions=[],
    )
    return services.publish_bundle_version(actor=superuser(), version_id=draft.pk)


def _start_worker(processes: Processes, name: str) -> None:
    from govportal.celery import app

    node = f"bench-{uuid.uuid4().hex[:6]}@{os.uname().nodename}"
    schedule = processes.directory / f"beat-{uuid.uuid4().hex[:6]}"
    processes.start(
        name,
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
            "2",
            "-n",
            node,
            "--without-gossip",
            "--without-mingle",
            "-B",
            "-s",
            str(schedule),
        ],
        **WORKER_ENV,
    )
    _wait(
        lambda: bool(app.control.ping(destination=[node], timeout=0.5)),
        timeout=90,
        what="the celery worker",
    )


def _kill(processes: Processes, name: str) -> None:
    for started, process in processes.started:
        if started == name and process.poll() is None:
            os.killpg(process.pid, 9)
            process.wait(timeout=10)


def _decide(child, **result) -> None:
    from tests.bundles.test_orchestration import _decide as decide

    decide(child, **result)


def _started(version, key: str) -> int:
    from apps.bundles.constants import ChildState
    from apps.bundles.models import BundleChild

    return BundleChild.objects.filter(
        application__version=version, component__key=key, state=ChildState.SUBMITTED
    ).count()


def _fault_run(department, items, processes: Processes) -> dict:
    from apps.bundles import services
    from apps.bundles.constants import ChildState
    from apps.bundles.models import BundleApplication, BundleChild
    from apps.cases.models import Case
    from tests.bundles.factories import FORM, files_for

    n = N_APPLICATIONS
    version = _publish(department, items)
    # One applicant each: 出生医学证明 is one licence per holder, so decisions for one holder
    # would replace each other's licence.
    users = [_applicant() for _ in range(n)]
    files = files_for(version)
    connection.close()
    _start_worker(processes, "worker-1")

    # Submissions while the worker starts first children; killed once a quarter have a case
    # (the submissions go on without a worker: their advance tasks wait in Redis).
    started = time.perf_counter()
    roots_when_killed = None
    for user in users:
        services.submit_bundle_application(
            user=user,
            version_id=version.pk,
            answers={},
            form_data=FORM,
            files={key: _copy(upload) for key, upload in files.items()},
        )
        if roots_when_killed is None and _started(version, "cert") >= n // 4:
            _kill(processes, "worker-1")
            roots_when_killed = _started(version, "cert")
    submit_seconds = time.perf_counter() - started
    if roots_when_killed is None:
        _kill(processes, "worker-1")
        roots_when_killed = _started(version, "cert")
    killed_at = time.perf_counter()
    _start_worker(processes, "worker-2")
    _wait(lambda: _started(version, "cert") == n, timeout=600, what="the first drain")
    drain_roots = time.perf_counter() - killed_at

    # Every first child decided; killed again in the middle of the fan-in.
    second_when_killed = None
    for child in BundleChild.objects.filter(
        application__version=version, component__key="cert"
    ).select_related("case"):
        _decide(child, certificate_no=f"Q{child.pk}")
        if second_when_killed is None and _started(version, "hukou") >= n // 4:
            _kill(processes, "worker-2")
            second_when_killed = _started(version, "hukou")
    if second_when_killed is None:
        _kill(processes, "worker-2")
        second_when_killed = _started(version, "hukou")
    connection.close()
    killed_at = time.perf_counter()
    _start_worker(processes, "worker-3")
    _wait(lambda: _started(version, "hukou") == n, timeout=600, what="the second drain")
    drain_fan_in = time.perf_counter() - killed_at

    applications = BundleApplication.objects.filter(version=version)
    children = BundleChild.objects.filter(application__version=version)
    linked = children.filter(case__isnull=False).count()
    cases = Case.objects.filter(applicant_user__in=users).count()
    flowed = children.filter(
        component__key="hukou", case__form_data__birth_certificate_no__startswith="Q"
    ).count()
    return {
        "name": "fault run: kill -9 of the worker twice while orchestrating",
        "applications": applications.count(),
        "submissions_per_s": round(n / submit_seconds, 1),
        "child_cases_created": linked,
        "child_cases_expected": 2 * n,
        "duplicates": cases - linked,
        "lost": 2 * n - linked,
        "left_claimed": children.filter(state=ChildState.STARTING).count(),
        "waiting_third": children.filter(
            component__key="insurance", state=ChildState.WAITING
        ).count(),
        "certificate_no_flowed": flowed,
        "first_children_when_killed": roots_when_killed,
        "second_children_when_killed": second_when_killed,
        "drain_after_kill_s": round(drain_roots, 1),
        "drain_after_kill_fan_in_s": round(drain_fan_in, 1),
    }


def _copy(upload):
    upload.seek(0)
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(upload.name, upload.read(), content_type=upload.content_type)


def _latency(department, items) -> dict:
    """Decision → next child's case submitted, and submission → first child submitted, with the
    (third) worker running steadily."""
    from apps.bundles import services
    from apps.bundles.models import BundleChild
    from tests.bundles.factories import FORM, files_for

    version = _publish(department, items)
    files = files_for(version)
    to_first: list[float] = []
    for user in [_applicant() for _ in range(N_LATENCY)]:
        t0 = time.time()
        application = services.submit_bundle_application(
            user=user,
            version_id=version.pk,
            answers={},
            form_data=FORM,
            files={key: _copy(upload) for key, upload in files.items()},
        )
        child = BundleChild.objects.filter(application=application, component__key="cert")
        _wait(
            lambda child=child: child.filter(started_at__isnull=False).exists(),
            timeout=60,
            what="cert",
        )
        to_first.append(child.get().started_at.timestamp() - t0)
    decision: list[float] = []
    for cert in BundleChild.objects.filter(
        application__version=version, component__key="cert"
    ).select_related("case"):
        _decide(cert, certificate_no=f"L{cert.pk}")
        t0 = time.time()
        nxt = BundleChild.objects.filter(application=cert.application_id, component__key="hukou")
        _wait(
            lambda nxt=nxt: nxt.filter(started_at__isnull=False).exists(), timeout=60, what="hukou"
        )
        decision.append(nxt.get().started_at.timestamp() - t0)
    connection.close()
    ms = lambda values, q: round(_percentile(values, q) * 1000, 1)  # noqa: E731
    return {
        "name": "orchestration latency (steady worker)",
        "n": N_LATENCY,
        "submit_to_first_child_p50_ms": ms(to_first, 0.5),
        "submit_to_first_child_p95_ms": ms(to_first, 0.95),
        "decision_to_next_child_p50_ms": ms(decision, 0.5),
        "decision_to_next_child_p95_ms": ms(decision, 0.95),
    }


def _end_to_end(department, items, processes: Processes) -> dict:
    """Submission → the last child handed off: the department receives every accepted child as a
    signed push (the simulator, its own HTTP process); the window accepts the bundle once (later
    children are accepted in the same clerk's name as they start); each child is decided by the
    bench as soon as the department has acknowledged its handoff. The clock stops when the last
    child's handoff is acknowledged."""
    from apps.bundles import services
    from apps.bundles.models import BundleChild
    from apps.handoffs.constants import HandoffState
    from apps.handoffs.models import Handoff
    from tests.bundles.factories import FORM, files_for
    from tests.cases.factories import clerk_of

    url, _record = processes.simulator("--key", f"bench={SECRET}")
    _push_endpoint(department, url)
    version = _publish(department, items)
    clerk = clerk_of(department)
    files = files_for(version)

    def handed_off(child) -> bool:
        child.refresh_from_db()
        return (
            child.case_id is not None
            and Handoff.objects.filter(
                subject_id=str(child.case_id), state=HandoffState.ACKNOWLEDGED
            ).exists()
        )

    totals: list[float] = []
    for user in [_applicant() for _ in range(N_END_TO_END)]:
        t0 = time.time()
        application = services.submit_bundle_application(
            user=user,
            version_id=version.pk,
            answers={},
            form_data=FORM,
            files={key: _copy(upload) for key, upload in files.items()},
        )
        children = {
            c.component.key: c
            for c in BundleChild.objects.filter(application=application).select_related("component")
        }
        first = children["cert"]
        _wait(lambda c=first: c.refresh_from_db() or c.started_at, timeout=60, what="1st")
        services.accept_bundle_application(application_id=application.pk, clerk=clerk)
        for key in ("cert", "hukou", "insurance"):
            child = children[key]
            _wait(lambda c=child: handed_off(c), timeout=60, what=f"{key} handed off")
            if key != "insurance":
                _decide_accepted(BundleChild.objects.select_related("case").get(pk=child.pk))
        totals.append(time.time() - t0)
    connection.close()
    return {
        "name": "submission → last of 3 children handed off (push, simulator)",
        "n": N_END_TO_END,
        "p50_s": round(statistics.median(totals), 2),
        "p95_s": round(_percentile(totals, 0.95), 2),
    }


def _decide_accepted(child) -> None:
    from apps.cases import services as cases
    from apps.cases.constants import Decision
    from tests.cases.factories import reviewer_of

    actor = cases.CaseActor.of(reviewer_of(child.case.department))
    cases.start_review(case_id=child.case_id, actor=actor)
    cases.decide_case(
        case_id=child.case_id,
        actor=actor,
        decision=Decision.APPROVED,
        result_data={"certificate_no": f"E{child.pk}"},
    )


def _guide(department, items) -> dict:
    from apps.bundles.constants import VersionStatus
    from apps.bundles.models import BundleVersion

    published = BundleVersion.objects.filter(
        status=VersionStatus.PUBLISHED, bundle__code__startswith="bench-"
    )
    for _ in range(max(0, N_PUBLISHED - published.count())):
        _publish(department, items)
    version = published.select_related("bundle").latest("pk")
    url = f"/bundles/{version.bundle.code}/"
    client = Client()
    assert client.get(url).status_code == 200
    timings = []
    for _ in range(GUIDE_REQUESTS):
        t0 = time.perf_counter()
        response = client.get(url)
        timings.append(time.perf_counter() - t0)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    return {
        "name": "guide page GET /bundles/<code>/",
        "bundles_published": BundleVersion.objects.filter(status=VersionStatus.PUBLISHED).count(),
        "requests": GUIDE_REQUESTS,
        "p50_ms": round(statistics.median(timings) * 1000, 1),
        "p95_ms": round(_percentile(timings, 0.95) * 1000, 1),
        "queries": len(queries),
    }


def bundles() -> list[dict]:
    from govportal.celery import app

    restore = _with_broker_on()
    app.control.purge()  # the bench's own Redis database: nothing left from an aborted run
    directory = Path(tempfile.mkdtemp(prefix="bench-bundles-"))
    processes = Processes(directory)
    department, items = _setup()
    results = []
    try:
        results.append(_fault_run(department, items, processes))
        results.append(_latency(department, items))
        results.append(_end_to_end(department, items, processes))
    finally:
        processes.stop()
        restore()
    results.append(_guide(department, items))
    return results
