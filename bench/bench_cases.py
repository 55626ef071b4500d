"""Case figures with 1,000,000 cases in the database (issue 5).

* **Fill**: 1,000,000 cases across 20 departments, written by ``INSERT … SELECT`` over
  ``generate_series`` (a deterministic mix of states: most delivered, the live ones received in
  the last 60 days, some overdue), 20,000 applicants. 30 % of all cases belong to the measured
  department (the worst case: one large department's hall queue holds ~27,000 live cases). The
  fill is kept in the bench database and reused by later runs.
* **Submission**: a verified citizen creates a draft, uploads the item's materials (PDF, sniffed)
  and submits, through ``apps.cases.services`` (case number allocation, event, audit) — one
  after another, then from 4 threads at once.
* **Acceptance**: a window clerk accepts the submitted cases (row lock, SLA deadline on the
  working-day calendar, event, audit, handoff outbox row, the delivery task published to the real
  Redis broker after commit) — sequential, then 4 clerks' threads at once.
* **Pages**: the clerk's queue (``/office/cases/``) with its filters and a deep page, the
  citizen's case list (``/cases/mine/``) and the department API list (``/api/v1/cases/``),
  through Django's test client in this process (full middleware, templates, PostgreSQL), with the
  query plan of the queue statement (``EXPLAIN ANALYZE``).
"""

from __future__ import annotations

import os
import re
import statistics
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from django.conf import settings
from django.db import connection, connections, transaction
from django.test import Client

N_CASES = int(os.environ.get("BENCH_CASES", "1000000"))
N_DEPARTMENTS = 20
BIG_SHARE_PERCENT = 30  # of all cases, in the measured department
N_APPLICANTS = 20_000
CHUNK = 100_000
N_SUBMIT = 150
N_THREADS = 4
PAGE_REQUESTS = 40

# status buckets over 1000: (upper bound, status, live)
STATUS_MIX = [
    (850, "delivered", False),
    (870, "completed", False),
    (890, "not_accepted", False),
    (910, "withdrawn", False),
    (940, "in_review", True),
    (960, "accepted", True),
    (975, "submitted", True),
    (985, "awaiting_supplement", True),
    (990, "suspended", True),
    (1000, "decided", True),
]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _ms(values: list[float]) -> dict:
    return {
        "p50_ms": round(statistics.median(values) * 1000, 2),
        "p95_ms": round(_percentile(values, 0.95) * 1000, 2),
    }


def _load() -> float:
    return round(os.getloadavg()[0], 1)


# --- data ---------------------------------------------------------------------------------


def _setup() -> dict:
    """Departments with one published item each, a hall, the clerk, the department's API client."""
    from apps.catalog.constants import ItemStatus
    from apps.catalog.models import ServiceItem
    from apps.core.models import AdministrativeLevel, Department, Region, RegionLevel, ServiceHall
    from apps.core.services import seed_calendar
    from apps.identity.constants import StaffRole
    from apps.identity.models import StaffMembership, User
    from tests.catalog.factories import published_item
    from tests.core.factories import make_uscc

    # The State Council holiday arrangement (SLA deadlines are working days).
    seed_calendar(first_year=settings.CALENDAR_FIRST_YEAR)
    region, _ = Region.objects.get_or_create(
        code="360000", defaults={"name": "江西省", "level": RegionLevel.PROVINCE}
    )
    departments, versions = [], []
    for i in range(N_DEPARTMENTS):
        department, _ = Department.objects.get_or_create(
            uscc=make_uscc(980000 + i),
            defaults={
                "name": f"基准测试办件部门{i + 1}",
                "region": region,
                "level": AdministrativeLevel.PROVINCE,
            },
        )
        item = ServiceItem.objects.filter(
            department=department, status=ItemStatus.PUBLISHED
        ).first()
        if item is None:
            item, version = published_item(
                department, name=f"基准测试事项{i + 1}", basic_code=f"98{i:010d}"
            )
        else:
            version = item.current_version
        departments.append(department)
        versions.append(version)
    big = departments[0]
    hall, _ = ServiceHall.objects.get_or_create(
        code="BENCH-HALL",
        defaults={
            "name": "基准测试政务服务大厅",
            "region": region,
            "level": AdministrativeLevel.PROVINCE,
            "address": "江西省南昌市红谷滩区",
        },
    )
    clerks = []
    for n in range(N_THREADS):
        clerk, _ = User.objects.get_or_create(username=f"bench-cases-clerk-{n}")
        StaffMembership.objects.get_or_create(
            user=clerk, department=big, defaults={"role": StaffRole.CLERK, "hall": hall}
        )
        clerks.append(clerk)
    return {"departments": departments, "versions": versions, "hall": hall, "clerks": clerks}


def _applicants() -> list[int]:
    from apps.identity.models import User

    prefix = "bench-cases-applicant-"
    have = User.objects.filter(username__startswith=prefix).count()
    if have < N_APPLICANTS:
        User.objects.bulk_create(
            [
                User(username=f"{prefix}{n:06d}", password="!", first_name="张伟")
                for n in range(have, N_APPLICANTS)
            ],
            batch_size=5000,
            ignore_conflicts=True,
        )
    return list(
        User.objects.filter(username__startswith=prefix).order_by("pk").values_list("pk", flat=True)
    )


_FILL_SQL = """
INSERT INTO cases_case (
    number, item_version_id, department_id, hall_id, status, channel, kind,
    applicant_user_id, enterprise_id, acting_user_id, authorisation_id, applicant_name,
    form_data, received_at, supplement_notice_due, accepted_at, deemed_accepted, accepted_by_id,
    promised_days, extension_days, paused_days, paused_since, deadline, not_accepted_reason,
    legal_basis, redirect_to, decision, decision_reason, result_data, decided_at, completed_at,
    delivered_at, closed_at, withdraw_reason, created_at, updated_at
)
SELECT
    'BENCH' || to_char(s.received, 'YYYYMMDD') || lpad(s.g::text, 8, '0'),
    (%(versions)s::bigint[])[s.d + 1],
    (%(departments)s::bigint[])[s.d + 1],
    CASE WHEN s.channel = 'window' AND s.d = 0 THEN %(hall)s ELSE NULL END,
    s.status, s.channel, 'promised',
    s.applicant, NULL, s.applicant, NULL, '张伟',
    '{}'::jsonb,
    s.received,
    s.received + interval '5 days',
    CASE WHEN s.accepted THEN s.received + interval '1 hour' END,
    false, NULL,
    CASE WHEN s.accepted THEN 10 END, 0, 0,
    CASE WHEN s.status = 'suspended' THEN s.received + interval '3 days' END,
    CASE WHEN s.accepted THEN s.received + interval '14 days' END,
    CASE WHEN s.status = 'not_accepted' THEN '不属于本机关职权范围' ELSE '' END,
    '', '',
    CASE WHEN s.status IN ('decided', 'completed', 'delivered') THEN 'approved' ELSE '' END,
    '', '{}'::jsonb,
    CASE WHEN s.status IN ('decided', 'completed', 'delivered')
        THEN s.received + interval '8 days' END,
    CASE WHEN s.status IN ('completed', 'delivered') THEN s.received + interval '8 days' END,
    CASE WHEN s.status = 'delivered' THEN s.received + interval '9 days' END,
    CASE WHEN s.status IN ('not_accepted', 'withdrawn') THEN s.received + interval '1 day' END,
    CASE WHEN s.status = 'withdrawn' THEN '不再需要' ELSE '' END,
    s.received - interval '10 minutes',
    now()
FROM (
    SELECT
        b.g, b.d, b.status, b.applicant, b.channel,
        b.status NOT IN ('submitted', 'awaiting_supplement', 'not_accepted', 'withdrawn')
            AS accepted,
        now() - interval '1 second' * mod(b.g * 7907,
            CASE WHEN b.live THEN 60 * 86400 ELSE 1095 * 86400 END) AS received
    FROM (
        SELECT
            g,
            CASE WHEN mod(g * 7919, 100) < %(big_share)s THEN 0
                ELSE 1 + mod(g, %(others)s) END AS d,
            (%(statuses)s::text[])[width_bucket(mod(g * 104729, 1000), %(bounds)s::int[]) + 1]
                AS status,
            (%(lives)s::bool[])[width_bucket(mod(g * 104729, 1000), %(bounds)s::int[]) + 1]
                AS live,
            (%(applicants)s::bigint[])[1 + mod(g * 31, %(n_applicants)s)] AS applicant,
            CASE WHEN mod(g, 2) = 0 THEN 'window' ELSE 'online' END AS channel
        FROM generate_series(%(start)s::bigint, %(stop)s::bigint) AS g
    ) AS b
) AS s
"""


def _fill(data: dict) -> dict:
    """1,000,000 cases (kept between runs): returns the fill figures."""
    from apps.cases.models import Case

    departments = [d.pk for d in data["departments"]]
    have = Case.objects.filter(department_id__in=departments, number__startswith="BENCH").count()
    if have >= N_CASES:
        return {"filled_now": 0, "cases_in_bench_departments": have}
    applicants = _applicants()
    params = {
        "versions": [v.pk for v in data["versions"]],
        "departments": departments,
        "hall": data["hall"].pk,
        "big_share": BIG_SHARE_PERCENT,
        "others": N_DEPARTMENTS - 1,
        # width_bucket(x, bounds) = number of bounds <= x, so the array is indexed from 1.
        "bounds": [0] + [upper for upper, _, _ in STATUS_MIX[:-1]],
        "statuses": ["", *(status for _, status, _ in STATUS_MIX)],
        "lives": [False, *(live for _, _, live in STATUS_MIX)],
        "applicants": applicants,
        "n_applicants": len(applicants),
    }
    started = time.perf_counter()
    for start in range(have + 1, N_CASES + 1, CHUNK):
        stop = min(start + CHUNK - 1, N_CASES)
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(_FILL_SQL, {**params, "start": start, "stop": stop})
        print(f"# bench cases: filled {stop:,} cases", flush=True, file=_stderr())
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE cases_case")
    return {
        "filled_now": N_CASES - have,
        "fill_s": round(time.perf_counter() - started, 1),
    }


def _stderr():
    import sys

    return sys.stderr


# --- submission and acceptance ------------------------------------------------------------


def _citizen(n: int):
    import random

    from apps.identity.demo import make_id_number
    from tests.identity.factories import UserFactory, verified_user

    rng = random.Random()
    birth = f"19{rng.randrange(50, 99)}0{rng.randrange(1, 9)}1{rng.randrange(0, 9)}"
    return verified_user(
        "张伟",
        id_number=make_id_number("360102", birth, rng.randrange(1, 999)),
        user=UserFactory(username=f"bench-cases-citizen-{time.time_ns()}-{n}"),
    )


def _submit_one(version, user) -> tuple[int, float]:
    from apps.cases import services
    from apps.cases.permissions import CaseActor
    from tests.cases.factories import FORM, pdf

    started = time.perf_counter()
    me = CaseActor.of(user)
    case = services.create_draft(user=user, version=version, form_data=FORM)
    for slot in version.materials.all():
        services.add_material_upload(case_id=case.pk, actor=me, slot_key=slot.key, upload=pdf())
    services.submit_case(case_id=case.pk, actor=me)
    return case.pk, time.perf_counter() - started


def _accept_one(case_id: int, clerk) -> float:
    from apps.cases import services
    from apps.cases.permissions import CaseActor

    started = time.perf_counter()
    services.accept_case(case_id=case_id, actor=CaseActor.of(clerk))
    return time.perf_counter() - started


def _in_threads(jobs: list[Callable[[], object]]) -> tuple[list, float]:
    def run(job: Callable[[], object]) -> object:
        try:
            return job()
        finally:
            connections.close_all()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=N_THREADS) as pool:
        results = list(pool.map(run, jobs))
    return results, time.perf_counter() - started


def _throughput(data: dict) -> list[dict]:
    from apps.cases.models import Case
    from apps.handoffs.models import Handoff
    from govportal.celery import app

    version = data["versions"][0]
    citizens = [_citizen(n) for n in range(N_THREADS)]
    results = []

    # submission, one after another
    timed = [_submit_one(version, citizens[0]) for _ in range(N_SUBMIT)]
    sequential_ids = [case_id for case_id, _ in timed]
    latencies = [seconds for _, seconds in timed]
    results.append(
        {
            "metric": "case submission (draft + materials + submit), one citizen after another",
            "value": round(len(timed) / sum(latencies), 1),
            "unit": "cases/s",
            "cases": len(timed),
            "materials_per_case": version.materials.count(),
            **_ms(latencies),
            "cases_in_database": Case.objects.count(),
            "loadavg_1m": _load(),
        }
    )

    # submission, 4 citizens at once
    jobs = [
        (lambda user=citizens[n % N_THREADS]: _submit_one(version, user))
        for n in range(N_SUBMIT * 2)
    ]
    timed, elapsed = _in_threads(jobs)
    concurrent_ids = [case_id for case_id, _ in timed]
    results.append(
        {
            "metric": f"case submission, {N_THREADS} citizens at once (threads)",
            "value": round(len(timed) / elapsed, 1),
            "unit": "cases/s",
            "cases": len(timed),
            **_ms([seconds for _, seconds in timed]),
            "loadavg_1m": _load(),
        }
    )
    numbers = Case.objects.filter(pk__in=sequential_ids + concurrent_ids).values_list(
        "number", flat=True
    )
    assert len(set(numbers)) == len(sequential_ids) + len(concurrent_ids), "duplicate numbers"

    # acceptance: the delivery task goes to the real broker after commit (no worker runs here)
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = False
    try:
        clerk = data["clerks"][0]
        latencies = [_accept_one(case_id, clerk) for case_id in sequential_ids]
        results.append(
            {
                "metric": "case acceptance (lock, SLA deadline, event, audit, outbox), one clerk",
                "value": round(len(latencies) / sum(latencies), 1),
                "unit": "cases/s",
                "cases": len(latencies),
                **_ms(latencies),
                "loadavg_1m": _load(),
            }
        )
        jobs = [
            (
                lambda case_id=case_id, clerk=data["clerks"][n % N_THREADS]: _accept_one(
                    case_id, clerk
                )
            )
            for n, case_id in enumerate(concurrent_ids)
        ]
        latencies, elapsed = _in_threads(jobs)
        results.append(
            {
                "metric": f"case acceptance, {N_THREADS} clerks at once (threads)",
                "value": round(len(latencies) / elapsed, 1),
                "unit": "cases/s",
                "cases": len(latencies),
                **_ms(latencies),
                "loadavg_1m": _load(),
            }
        )
        accepted = Case.objects.filter(
            pk__in=sequential_ids + concurrent_ids, status="accepted"
        ).count()
        assert accepted == len(sequential_ids) + len(concurrent_ids), accepted
    finally:
        app.conf.task_always_eager = previous
        app.control.purge()
        Handoff.objects.filter(target_department__in=data["departments"]).delete()
    return results


# --- pages --------------------------------------------------------------------------------


def _time_get(client, url: str, n: int = PAGE_REQUESTS, **extra) -> tuple[list[float], int]:
    client.get(url, **extra)  # warm
    latencies, rows = [], 0
    for _ in range(n):
        started = time.perf_counter()
        response = client.get(url, **extra)
        latencies.append(time.perf_counter() - started)
        assert response.status_code == 200, (url, response.status_code)
    body = response.content.decode()
    rows = body.count('data-testid="case-row"')
    return latencies, rows


def _queue_plan(clerk, **filters) -> dict:
    from apps.cases import selectors

    qs = selectors.list_queue_for_clerk(clerk, selectors.QueueFilters(**filters))[:51]
    plan = qs.explain(analyze=True)
    lines = plan.splitlines()
    return {
        "plan_top": lines[0].strip()[:120],
        "seq_scan_on_cases": "Seq Scan on cases_case" in plan,
        "indexes_used": sorted(set(re.findall(r"(?:using|Bitmap Index Scan on) (\S+)", plan))),
        "sql_ms": float(lines[-1].split()[-2]) if lines[-1].startswith("Execution") else None,
    }


def _pages(data: dict) -> list[dict]:
    from django.test.utils import override_settings

    from apps.cases.models import Case
    from tests.identity.factories import ApiClientFactory, issue_token

    clerk = data["clerks"][0]
    big = data["departments"][0]
    results = []
    live = (
        Case.objects.filter(department=big)
        .exclude(
            status__in=[
                "delivered",
                "completed",
                "not_accepted",
                "withdrawn",
                "draft",
                "supplement_expired",
            ]
        )
        .count()
    )
    with override_settings(ALLOWED_HOSTS=["*"]):
        office = Client()
        office.force_login(clerk)
        code = data["versions"][0].implementation_code
        some_number = (
            Case.objects.filter(department=big, status="in_review")
            .values_list("number", flat=True)
            .order_by("pk")
            .first()
        )
        variants = [
            ("queue, default (live cases, oldest first)", "", {}),
            ("queue, whole department (scope=all)", "?scope=all", {"scope": "all"}),
            ("queue, page 50", "?page=50", {}),
            ("queue, status = in review", "?status=in_review", {"status": "in_review"}),
            ("queue, SLA red (overdue)", "?sla=red", {"sla": "red"}),
            ("queue, SLA yellow", "?sla=yellow", {"sla": "yellow"}),
            ("queue, item code", f"?item={code}", {"item_code": code}),
            (
                "queue, case number prefix",
                f"?number={some_number[:-3]}",
                {"number": some_number[:-3]},
            ),
        ]
        for label, query, filters in variants:
            latencies, rows = _time_get(office, "/office/cases/" + query)
            results.append(
                {
                    "metric": f"clerk queue page /office/cases/ — {label}",
                    **_ms(latencies),
                    "rows_on_page": rows,
                    "live_cases_in_department": live,
                    "cases_in_database": Case.objects.count(),
                    **_queue_plan(clerk, **filters),
                    "loadavg_1m": _load(),
                }
            )

        citizen_id = (
            Case.objects.filter(department=big, number__startswith="BENCH")
            .values_list("applicant_user_id", flat=True)
            .first()
        )
        citizen = Client()
        from apps.identity.models import User

        citizen.force_login(User.objects.get(pk=citizen_id))
        latencies, rows = _time_get(citizen, "/cases/mine/")
        results.append(
            {
                "metric": "citizen case list /cases/mine/",
                **_ms(latencies),
                "rows_on_page": rows,
                "citizen_cases": Case.objects.filter(applicant_user_id=citizen_id).count(),
                "loadavg_1m": _load(),
            }
        )

        token = issue_token(ApiClientFactory(department=big), "cases:read")
        api = Client()
        for label, query in [
            ("newest first", ""),
            ("state = in review", "?status=in_review"),
            ("deadline before 2099", "?deadline_before=2099-01-01T00:00:00Z"),
        ]:
            latencies, _ = _time_get(
                api, "/api/v1/cases/" + query, HTTP_AUTHORIZATION=f"Bearer {token.token}"
            )
            results.append(
                {
                    "metric": f"department API /api/v1/cases/ — {label}",
                    **_ms(latencies),
                    "department_cases": Case.objects.filter(department=big).count(),
                    "loadavg_1m": _load(),
                }
            )
    return results


def cases() -> list[dict]:
    data = _setup()
    fill = _fill(data)
    results = [
        {
            "metric": "cases in the database",
            "value": N_CASES,
            "unit": "cases",
            "departments": N_DEPARTMENTS,
            **fill,
        }
    ]
    results += _throughput(data)
    results += _pages(data)
    return results
