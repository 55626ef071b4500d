"""中介超市 figures (issue 14).

* **Concurrent 竞价 over HTTP**: ``BENCH_MARKET_AGENCIES`` listed agencies (default 200), each
  registered for one sealed-round bidding project, each signed in with its own session, post
  their bid for round one at the same moment (one thread each) to gunicorn with 2 workers
  (DEBUG off). Then every agency posts the same bid again (a double submit). Reports bids per
  second, p50/p95 of the bid POSTs, and checks that exactly one bid per agency is stored: none
  lost, none doubled (the second posts are all refused by the one-bid-per-round rule).
* **Public announcement list**: ``GET /marketplace/`` (newest first, 20 a page with the count)
  and a search, with ``BENCH_MARKET_PROJECTS`` published projects (default 100,000, written by
  one ``INSERT … SELECT`` over ``generate_series``), p50/p95 through Django's test client in
  this process, and the query count.
"""

from __future__ import annotations

import http.client
import os
import secrets
import statistics
import string
import sys
import tempfile
import threading
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from bench.bench_http import _free_port, _Servers, _wait_http

N_AGENCIES = int(os.environ.get("BENCH_MARKET_AGENCIES", "200"))
N_PROJECTS = int(os.environ.get("BENCH_MARKET_PROJECTS", "100000"))
REQUESTS = int(os.environ.get("BENCH_MARKET_REQUESTS", "50"))
BASE_DIR = Path(settings.BASE_DIR)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _service():
    from apps.core.models import Department, Region
    from apps.marketplace.models import IntermediaryService
    from tests.core.factories import make_uscc
    from tests.marketplace.factories import ENV_EVAL

    region, _ = Region.objects.get_or_create(code="360100", defaults={"name": "南昌市", "level": 2})
    department, _ = Department.objects.get_or_create(
        uscc=make_uscc(99014, "360100"),
        defaults={"name": "基准测试生态环境局", "region": region, "level": 3},
    )
    service, _ = IntermediaryService.objects.get_or_create(
        code="BENCH-EIA",
        defaults={
            "name": "基准测试环境影响评价",
            "department": department,
            "legal_basis": "《中华人民共和国环境影响评价法》",
            "required_qualifications": [dict(ENV_EVAL)],
        },
    )
    return service


def _bidding_project(service, agencies):
    """A sealed-round project whose round one is open now (registration closed a second ago)."""
    from apps.marketplace.models import Project
    from apps.marketplace.services import close_registration, register_for_project
    from tests.marketplace.factories import published_project

    now = timezone.now()
    project = published_project(
        service,
        method="bidding",
        name="基准测试竞价项目",
        budget=Decimal("1000000"),
        registration_closes_at=now + timedelta(seconds=30),
        selection_at=now + timedelta(seconds=30),
        bid_rounds=1,
        bid_round_minutes=30,
    )
    for agency in agencies:
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    # Registration closes now (the announced times are moved forward for the bench only).
    start = timezone.now() - timedelta(seconds=1)
    Project.objects.filter(pk=project.pk).update(registration_closes_at=start, selection_at=start)
    close_registration(project_id=project.pk)
    return Project.objects.get(pk=project.pk)


def _cookie(user) -> tuple[str, str]:
    client = Client()
    client.force_login(user)
    session = client.cookies[settings.SESSION_COOKIE_NAME].value
    csrf = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))
    return f"{settings.SESSION_COOKIE_NAME}={session}; {settings.CSRF_COOKIE_NAME}={csrf}", csrf


def _post_bids(port: int, path: str, bidders: list[tuple[str, str, int, str]]) -> list[float]:
    """Every bidder posts at once (a barrier); returns the latencies in ms."""
    barrier = threading.Barrier(len(bidders))
    latencies: list[float] = []
    statuses: list[int] = []
    lock = threading.Lock()

    def post(cookie: str, csrf: str, agency_id: int, price: str) -> None:
        body = urlencode({"agency": agency_id, "price": price, "csrfmiddlewaretoken": csrf})
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        barrier.wait()
        t0 = time.perf_counter()
        conn.request(
            "POST",
            path,
            body=body,
            headers={"Cookie": cookie, "Content-Type": "application/x-www-form-urlencoded"},
        )
        status = conn.getresponse().status
        elapsed = (time.perf_counter() - t0) * 1000
        conn.close()
        with lock:
            latencies.append(elapsed)
            statuses.append(status)

    threads = [threading.Thread(target=post, args=bidder) for bidder in bidders]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) == {302}, statuses  # the page answers each post with a redirect
    return latencies


def _agencies(service, make) -> list:
    """The bench's agencies, kept between runs; missing ones are made by the test factories,
    whose sequences are moved past every row a previous run (another process) made."""
    import itertools

    from apps.identity.models import Enterprise
    from apps.marketplace.models import Agency
    from tests.identity import factories

    agencies = list(
        Agency.objects.filter(services__service=service, status="listed")
        .select_related("enterprise__legal_representative")
        .order_by("pk")[:N_AGENCIES]
    )
    if len(agencies) < N_AGENCIES:
        offset = get_user_model().objects.count() + Enterprise.objects.count() + 1
        factories._person_sequence = itertools.count(offset * 3)
        factories.UserFactory.reset_sequence(offset)
        factories.EnterpriseFactory.reset_sequence(offset)
        agencies += [make(service) for _ in range(N_AGENCIES - len(agencies))]
    return agencies


def concurrent_bidding() -> list[dict]:
    from apps.marketplace.models import Bid
    from tests.marketplace.factories import listed_agency

    service = _service()
    agencies = _agencies(service, listed_agency)
    project = _bidding_project(service, agencies)
    bidders = []
    for index, agency in enumerate(agencies):
        cookie, csrf = _cookie(agency.enterprise.legal_representative)
        bidders.append((cookie, csrf, agency.pk, str(900000 - index)))
    path = f"/marketplace/projects/{project.pk}/bid/"
    port = _free_port()
    env = {
        **os.environ,
        "DEBUG": "false",
        "STATIC_MANIFEST": "false",
        "CONN_MAX_AGE": "60",
        "LOG_LEVEL": "WARNING",
    }
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    with tempfile.TemporaryDirectory(prefix="bench-market-") as tmp:
        servers = _Servers(Path(tmp))
        try:
            servers.start(
                [gunicorn, "-w", "2", "-b", f"127.0.0.1:{port}", "govportal.wsgi:application"],
                cwd=BASE_DIR,
                env=env,
                log="govportal.log",
            )
            _wait_http(f"http://127.0.0.1:{port}/marketplace/services/")
            t0 = time.perf_counter()
            first = _post_bids(port, path, bidders)
            wall = time.perf_counter() - t0
            stored_after_first = Bid.objects.filter(project=project).count()
            second = _post_bids(port, path, bidders)
        finally:
            servers.stop()
    stored = list(Bid.objects.filter(project=project).values_list("agency_id", flat=True))
    lost = len({a.pk for a in agencies} - set(stored))
    doubled = len(stored) - len(set(stored))
    return [
        {
            "bench": "bidding_http",
            "agencies": N_AGENCIES,
            "bids_per_second": round(N_AGENCIES / wall, 1),
            "p50_ms": round(statistics.median(first), 1),
            "p95_ms": round(_percentile(first, 0.95), 1),
            "double_submit_p95_ms": round(_percentile(second, 0.95), 1),
            "stored_after_first": stored_after_first,
            "lost": lost,
            "doubled": doubled,
            "workers": 2,
        }
    ]


def _fill_projects(service, count: int) -> None:
    from apps.marketplace.models import Project

    existing = Project.objects.filter(number__startswith="BENCH").count()
    if existing >= count:
        return
    from tests.marketplace.factories import l3_user

    user = l3_user("基准业主")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO marketplace_project (number, name, service_id, scope, owner_user_id,
                owner_name, contact, qualification_requirements, budget, time_limit_days,
                is_fiscal_funded, method, direct_reason, registration_closes_at, selection_at,
                big_list_size, small_list_size, bid_rounds, bid_round_minutes, bid_mode, rubric,
                status, review_note, published_at, failure_reason, shortlist, award_note,
                created_at, updated_at)
            SELECT 'BENCH' || g, '基准项目' || g || '环境影响评价', %s, '编制报告表', %s,
                '基准业主', '', '[]'::jsonb, 80000, 30, (g %% 2 = 0), 'random', '',
                now() - (g || ' minutes')::interval, now() - (g || ' minutes')::interval,
                0, 0, 0, 0, 'sealed', '{}'::jsonb,
                CASE WHEN g %% 3 = 0 THEN 'failed' ELSE 'registering' END, '',
                now() - (g || ' minutes')::interval, '', '[]'::jsonb, '', now(), now()
            FROM generate_series(%s, %s) AS g
            """,
            [service.pk, user.pk, existing + 1, count],
        )
        cursor.execute("ANALYZE marketplace_project")


def _measure(label: str, path: str) -> dict:
    client = Client()
    client.get(path)  # warm
    times = []
    for _ in range(REQUESTS):
        t0 = time.perf_counter()
        response = client.get(path)
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        client.get(path)
    return {
        "bench": label,
        "projects": N_PROJECTS,
        "requests": REQUESTS,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "queries": len(queries),
    }


def announcement_list() -> list[dict]:
    service = _service()
    _fill_projects(service, N_PROJECTS)
    return [
        _measure("marketplace_list", "/marketplace/"),
        _measure("marketplace_list_page_50", "/marketplace/?page=50"),
        _measure("marketplace_search", "/marketplace/?q=" + "基准项目4242"),
        _measure("marketplace_filter", f"/marketplace/?status=failed&service={service.pk}"),
    ]
