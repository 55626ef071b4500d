"""Foundation figures: working-day arithmetic and audit-chain append throughput."""

from __future__ import annotations

import statistics
import threading
import time
from datetime import date, timedelta

from django.db import connection, transaction


def calendar_arithmetic() -> list[dict]:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2020)
    calendar.invalidate_calendar()
    cal = calendar.get_calendar()
    starts = [date(2021, 1, 1) + timedelta(days=i) for i in range(1500)]
    started = time.perf_counter()
    for start in starts:
        cal.add_working_days(start, 20)
    elapsed = time.perf_counter() - started
    return [
        {
            "metric": "add_working_days(20) per second",
            "value": round(len(starts) / elapsed),
            "unit": "ops/s",
        }
    ]


def _append(n: int) -> list[float]:
    from apps.audit.services import record_audit_event

    latencies = []
    for i in range(n):
        t0 = time.perf_counter()
        with transaction.atomic():
            record_audit_event(actor=None, action="bench.append", object_type="bench", object_id=i)
        latencies.append(time.perf_counter() - t0)
    connection.close()
    return latencies


def audit_append() -> list[dict]:
    results = []
    per_writer = 500
    for writers in (1, 4):
        latencies: list[float] = []
        lock = threading.Lock()

        def run(out: list[float] = latencies, guard: threading.Lock = lock) -> None:
            values = _append(per_writer)
            with guard:
                out.extend(values)

        threads = [threading.Thread(target=run) for _ in range(writers)]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.perf_counter() - started
        latencies.sort()
        results.append(
            {
                "metric": f"audit events committed per second, {writers} concurrent writer(s)",
                "value": round(writers * per_writer / elapsed),
                "unit": "events/s",
                "p50_ms": round(statistics.median(latencies) * 1000, 2),
                "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 2),
            }
        )
    from apps.audit.services import verify_audit_chain

    t0 = time.perf_counter()
    report = verify_audit_chain()
    results.append(
        {
            "metric": "audit_verify throughput",
            "value": round(report.checked / (time.perf_counter() - t0)),
            "unit": "events/s",
            "events": report.checked,
            "ok": report.ok,
        }
    )
    return results
