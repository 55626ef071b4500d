"""Catalogue search figures at 10,000 published items, as ratios to a bare DRF endpoint.

Both endpoints are called through Django's test client in this process (full middleware, DRF,
serializers, PostgreSQL), one request at a time, interleaved in the same run (five requests to
the bare endpoint of ``bench.urls`` before each search), so both see the same machine:
``GET /api/v1/catalog/items/?search=…`` (page of 20, each result with its materials and
versions) over a fixed mix of queries — Chinese words, pinyin, initials, synonyms,
one-character typos, broad one-word terms, nonsense. Single-client throughput is requests
per second of busy time. Concurrent throughput: ``CLIENTS`` forked client processes, each
with its own database connection, call one endpoint as fast as they can for
``CONCURRENT_SECONDS`` — the bare endpoint, then the search over the same query mix — and the
requests per second of wall time are compared (same machine, same run; on 2 cores the client
processes and PostgreSQL share the CPUs, so this is the throughput of the whole box).
"""

from __future__ import annotations

import multiprocessing
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from stdnum.cn import uscc

from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import override_settings

N_ITEMS = 10_000
ROUNDS = 6  # passes over the query mix
BARE_PER_SEARCH = 5  # bare requests before each search request
CLIENTS = 4  # concurrent client processes
CONCURRENT_SECONDS = 8.0

# (kind, query): the kinds of the search quality test, plus broad one-word terms that match a
# large share of the catalogue (the worst case for ranking).
QUERIES: list[tuple[str, str]] = [
    ("words", "身份证"),
    ("words", "食品经营许可"),
    ("words", "结婚登记"),
    ("words", "公积金提取"),
    ("pinyin", "huzhao"),
    ("pinyin", "shebaoka"),
    ("initials", "hz"),
    ("initials", "yyzz"),
    ("synonym", "开饭店"),
    ("synonym", "房产证"),
    ("synonym", "驾照丢了"),
    ("typo", "护招"),
    ("typo", "营业执找"),
    ("typo", "教师资恪"),
    ("broad", "登记"),
    ("broad", "许可"),
    ("nonsense", "鑫鑫鑫"),
]


def ensure_generated_department() -> tuple[Any, Any]:
    """The department the generated items belong to, and the published version they copy."""
    from apps.catalog.models import ServiceItem
    from apps.catalog.permissions import SYSTEM
    from apps.catalog.services import create_item, ensure_themes, publish_item
    from apps.core.models import AdministrativeLevel, Department, Region, RegionLevel

    ensure_themes()
    region, _ = Region.objects.get_or_create(
        code="360000", defaults={"name": "江西省", "level": RegionLevel.PROVINCE}
    )
    body = "11360000MB0000001"  # a government organ's USCC without its check character
    department, _ = Department.objects.get_or_create(
        uscc=body + uscc.calc_check_digit(body),
        defaults={
            "name": "江西省市场监督管理局",
            "region": region,
            "level": AdministrativeLevel.PROVINCE,
        },
    )
    item = ServiceItem.objects.filter(department=department, basic_code="000000000001").first()
    if item is None:
        item = create_item(
            actor=SYSTEM, department=department, fields=_fields(), materials=_materials()
        )
    if item.current_version_id is None:
        publish_item(actor=SYSTEM, item_id=item.pk)
        item.refresh_from_db()
    assert item.current_version is not None
    return department, item.current_version


def _catalogue() -> int:
    """The generated catalogue in the bench database; created once, reused by later runs."""
    from apps.catalog.models import ServiceItem
    from bench.catalog_data import delete_generated_items, generate_items, generated_items

    department, version = ensure_generated_department()
    generated = generated_items(department)
    own_versions = generated.filter(current_version__item=F("pk"))
    if generated.count() == N_ITEMS and own_versions.count() == N_ITEMS:
        return ServiceItem.objects.filter(status="published").count()
    # An earlier generator (all items sharing one version), an interrupted run or the HTTP
    # bench's 100,000 items: start over.
    delete_generated_items(department)
    generate_items(n=N_ITEMS, department=department, version=version)
    return ServiceItem.objects.filter(status="published").count()


def _fields() -> dict:
    return {
        "name": "食品经营许可",
        "basic_code": "000000000001",
        "item_type": "01",
        "exercise_level": "2",
        "legal_basis": "《中华人民共和国食品安全法》",
        "service_objects": ["2"],
        "handling_forms": ["1"],
        "conditions": "依法取得营业执照",
        "process_steps": [{"name": "受理"}, {"name": "决定"}],
        "result_name": "食品经营许可证",
        "handling_address": "江西省政务服务中心",
        "handling_time": "工作日 9:00-17:00",
        "consult_phone": "0791-12345",
        "complaint_phone": "12345",
        "legal_limit_days": 20,
        "promised_limit_days": 10,
        "channel": "window",
    }


def _materials() -> list[dict]:
    return [
        {"key": "application", "name": "食品经营许可申请书", "source": "applicant"},
        {"key": "licence", "name": "营业执照", "source": "government"},
    ]


def _time(call: Callable[[], None], n: int) -> tuple[list[float], float]:
    latencies = []
    started = time.perf_counter()
    for _ in range(n):
        t0 = time.perf_counter()
        call()
        latencies.append(time.perf_counter() - t0)
    return latencies, time.perf_counter() - started


def _figures(latencies: Sequence[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "p50_ms": round(statistics.median(ordered) * 1000, 2),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 2),
        "rps": round(len(ordered) / elapsed, 1),
    }


def _client_process(kind: str, offset: int, start_at: float, queue: multiprocessing.Queue) -> None:
    """One concurrent client (a forked process with its own database connection)."""
    client = Client(HTTP_HOST="127.0.0.1")

    def call(n: int) -> None:
        if kind == "bare":
            response = client.get("/bench/bare/")
        else:
            response = client.get(
                "/api/v1/catalog/items/", {"search": QUERIES[n % len(QUERIES)][1]}
            )
        assert response.status_code == 200

    try:
        call(offset)  # connect before the clock starts
        time.sleep(max(0.0, start_at - time.time()))
        deadline = time.perf_counter() + CONCURRENT_SECONDS
        latencies = []
        n = offset
        while time.perf_counter() < deadline:
            t0 = time.perf_counter()
            call(n)
            latencies.append(time.perf_counter() - t0)
            n += 1
        queue.put(latencies)
    finally:
        connection.close()


def _concurrent(kind: str) -> dict[str, float]:
    """Requests per second of wall time with ``CLIENTS`` processes, and their latencies."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    connection.close()  # children must not share the parent's database socket
    start_at = time.time() + 2.0
    processes = [
        context.Process(target=_client_process, args=(kind, i * 5, start_at, queue))
        for i in range(CLIENTS)
    ]
    for process in processes:
        process.start()
    latencies: list[float] = []
    for _ in processes:
        latencies.extend(queue.get(timeout=CONCURRENT_SECONDS + 120))
    for process in processes:
        process.join()
        assert process.exitcode == 0, f"{kind} client failed"
    figures = _figures(latencies, CONCURRENT_SECONDS)
    return {**figures, "requests": len(latencies)}


def search_latency() -> list[dict]:
    items = _catalogue()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE catalog_serviceitem")
    client = Client(HTTP_HOST="127.0.0.1")
    # Web processes keep their database connection (CONN_MAX_AGE, 60 s by default); the bench
    # runner sets 0 for the other benchmarks, which would add a connect to every request.
    connection.close()
    max_age = connection.settings_dict["CONN_MAX_AGE"]
    connection.settings_dict["CONN_MAX_AGE"] = 600
    try:
        return _measure(client, items)
    finally:
        connection.close()
        connection.settings_dict["CONN_MAX_AGE"] = max_age


def _measure(client: Client, items: int) -> list[dict]:
    with override_settings(ROOT_URLCONF="bench.urls"):

        def bare() -> None:
            response = client.get("/bench/bare/")
            assert response.status_code == 200

        def get(query: str) -> Callable[[], None]:
            def call() -> None:
                response = client.get("/api/v1/catalog/items/", {"search": query})
                assert response.status_code == 200, response.content[:200]

            return call

        for _ in range(50):  # warm up: imports, jieba dictionary, connection, plan cache
            bare()
        for _, query in QUERIES:
            get(query)()
        # Interleaved, so both endpoints see the same machine (other processes come and go).
        bare_latencies: list[float] = []
        per_kind: dict[str, list[float]] = {}
        all_latencies: list[float] = []
        for _ in range(ROUNDS):
            for kind, query in QUERIES:
                bare_latencies.extend(_time(bare, BARE_PER_SEARCH)[0])
                latencies, _ = _time(get(query), 1)
                per_kind.setdefault(kind, []).extend(latencies)
                all_latencies.extend(latencies)
        bare_elapsed = sum(bare_latencies)
        search_elapsed = sum(all_latencies)
        # Several clients at once, the bare endpoint first, then the search.
        bare_concurrent = _concurrent("bare")
        search_concurrent = _concurrent("search")

    bare_figures = _figures(bare_latencies, bare_elapsed)
    search_figures = _figures(all_latencies, search_elapsed)
    common = {"items": items, "page_size": 20, "concurrency": 1}
    results = [
        {
            "metric": "bare DRF endpoint",
            "unit": "ms",
            **bare_figures,
            "requests": len(bare_latencies),
        },
        {
            "metric": "catalog search API, all queries",
            "unit": "ms",
            **search_figures,
            "requests": len(all_latencies),
            **common,
        },
        {
            "metric": "catalog search API / bare DRF endpoint",
            "unit": "ratio",
            "p50": round(search_figures["p50_ms"] / bare_figures["p50_ms"], 1),
            "p95": round(search_figures["p95_ms"] / bare_figures["p95_ms"], 1),
            "throughput": round(search_figures["rps"] / bare_figures["rps"], 3),
            **common,
        },
    ]
    concurrent = {"items": items, "page_size": 20, "concurrency": CLIENTS}
    results += [
        {
            "metric": "bare DRF endpoint, concurrent clients",
            "unit": "ms",
            **bare_concurrent,
            "concurrency": CLIENTS,
        },
        {
            "metric": "catalog search API, concurrent clients",
            "unit": "ms",
            **search_concurrent,
            **concurrent,
        },
        {
            "metric": "catalog search API / bare DRF endpoint, concurrent clients",
            "unit": "ratio",
            "p50": round(search_concurrent["p50_ms"] / bare_concurrent["p50_ms"], 1),
            "throughput": round(search_concurrent["rps"] / bare_concurrent["rps"], 3),
            **concurrent,
        },
    ]
    for kind, latencies in per_kind.items():
        figures = _figures(latencies, sum(latencies))
        results.append(
            {
                "metric": f"catalog search API, {kind} queries",
                "unit": "ms",
                **figures,
                "p50_ratio_to_bare": round(figures["p50_ms"] / bare_figures["p50_ms"], 1),
                **common,
            }
        )
    return results
