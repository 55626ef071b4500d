"""好差评 figures (issue 12).

* **Rating submissions**: window services recorded by a clerk, each rated on the hall pad page
  (``POST /office/reviews/pad/<token>/``) through Django's test client in this process (full
  middleware, template, PostgreSQL; rating row, rollup upsert, audit event, and a ticket for
  every 差评) — sequentially; ratings per second.
* **Statistics page**: the public page ``/reviews/`` (figures, monthly chart, rankings, rectified
  差评), p50/p95 over ``PAGE_REQUESTS`` requests and its query count, first with 50,000 ratings
  and then with ``BENCH_REVIEWS_RATINGS`` (default 5,000,000). The fill is written by
  ``INSERT … SELECT`` over ``generate_series`` and the rollups are rebuilt by one ``GROUP BY``
  per dimension (what the services would have accumulated); the page reads only the rollups, so
  the query count is the same at both sizes.
"""

from __future__ import annotations

import os
import statistics
import time

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

N_RATINGS = int(os.environ.get("BENCH_REVIEWS_RATINGS", "5000000"))
SMALL = 50_000
N_SUBMIT = int(os.environ.get("BENCH_REVIEWS_SUBMIT", "200"))
PAGE_REQUESTS = 40
CHUNK = 500_000

# grade by (i % 100): A.8 order, bad ones 10 %
GRADE_SQL = """CASE WHEN g < 55 THEN 'very_satisfied' WHEN g < 80 THEN 'satisfied'
    WHEN g < 90 THEN 'basically_satisfied' WHEN g < 96 THEN 'dissatisfied'
    ELSE 'very_dissatisfied' END"""
GRADE_CODE = {
    "very_satisfied": 1,
    "satisfied": 2,
    "basically_satisfied": 3,
    "dissatisfied": 4,
    "very_dissatisfied": 5,
}


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _setup():
    from apps.core.models import Region, ServiceHall, ServiceWindow
    from apps.core.services import seed_calendar
    from apps.identity.constants import StaffRole
    from apps.identity.models import StaffMembership, User
    from tests.core.factories import DepartmentFactory, RegionFactory

    seed_calendar(first_year=2026)
    province = RegionFactory(code="360000", name="江西省", level=1)
    region = Region.objects.get(pk=province.pk)
    departments = [DepartmentFactory(name=f"评价测评部门{i}", region=region) for i in range(20)]
    halls = [
        ServiceHall.objects.get_or_create(
            code=f"BENCH-H{i}",
            defaults={"name": f"测评大厅{i}", "region": region, "level": 1, "address": "南昌"},
        )[0]
        for i in range(5)
    ]
    windows = []
    for i in range(20):
        window, _ = ServiceWindow.objects.get_or_create(
            hall=halls[i % 5], number=f"{i:02d}", defaults={"name": "综合窗口"}
        )
        window.departments.add(departments[i])
        windows.append(window)
    clerk, _ = User.objects.get_or_create(username="bench-reviews-clerk")
    StaffMembership.objects.get_or_create(
        user=clerk,
        department=departments[0],
        role=StaffRole.CLERK,
        defaults={"hall": halls[0], "window": windows[0]},
    )
    return region, departments, halls, windows, clerk


def _truncate() -> None:
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE reviews_appeal, reviews_followup, reviews_rectificationticket,"
            " reviews_rating, reviews_servicerecord, reviews_reviewrollup CASCADE"
        )


def _fill(start: int, stop: int, region, windows) -> None:
    """Window services ``start``..``stop`` (1-based) and one rating each."""
    window_ids = [w.pk for w in windows]
    hall_ids = [w.hall_id for w in windows]
    dept_ids = [w.departments.first().pk for w in windows]
    with connection.cursor() as cursor:
        for lo in range(start, stop + 1, CHUNK):
            hi = min(stop, lo + CHUNK - 1)
            cursor.execute("SELECT coalesce(max(id), 0) FROM reviews_servicerecord")
            (last_id,) = cursor.fetchone()
            cursor.execute(
                """
                INSERT INTO reviews_servicerecord (created_at, updated_at, kind, department_id,
                    region_id, region_path, item_code, item_name, hall_id, window_id, staff_id,
                    served_user_id, summary, completed_at, default_due_at, period, pad_nonce,
                    is_rated, case_id)
                SELECT t, t, 'window', (%(d)s::int[])[1 + i %% 20], %(r)s, %(rc)s,
                    'ITEM' || (i %% 50), '测评事项', (%(h)s::int[])[1 + i %% 20],
                    (%(w)s::int[])[1 + i %% 20], NULL, NULL, 'bench', t, t + interval '7 days',
                    to_char(t AT TIME ZONE 'Asia/Shanghai', 'YYYY-MM'), '', true, NULL
                FROM (SELECT i, now() - (i %% 360) * interval '1 day' AS t
                      FROM generate_series(%(lo)s, %(hi)s) AS i) s
                """,
                {
                    "d": dept_ids,
                    "h": hall_ids,
                    "w": window_ids,
                    "r": region.pk,
                    "rc": region.code,
                    "lo": lo,
                    "hi": hi,
                },
            )
            cursor.execute(
                f"""
                INSERT INTO reviews_rating (created_at, updated_at, service_id, sequence, grade,
                    channel, source, options, comment, moderation, is_anonymous, is_current,
                    is_excluded, indicator_set_id, rater_id)
                SELECT s.completed_at, s.completed_at, s.id, 1, {GRADE_SQL},
                    CASE WHEN s.id %% 2 = 0 THEN 'hall_pad' ELSE 'qr' END, 'rater', '[]', '',
                    'not_needed', true, true, false, NULL, NULL
                FROM (SELECT id, completed_at, id %% 100 AS g FROM reviews_servicerecord
                      WHERE id > %s) s
                """,
                [last_id],
            )


def _rebuild_rollups() -> None:
    grades = ", ".join(f"sum(CASE WHEN r.grade = '{g}' THEN 1 ELSE 0 END)" for g in GRADE_CODE)
    score = (
        "sum(CASE r.grade "
        + " ".join(f"WHEN '{g}' THEN {6 - code}" for g, code in GRADE_CODE.items())
        + " END)"
    )
    dims = {
        "total": "''",
        "department": "s.department_id::text",
        "hall": "s.hall_id::text",
        "window": "s.window_id::text",
        "item": "s.item_code",
        "region": "s.region_path",
        "channel": "r.channel",
    }
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM reviews_reviewrollup")
        for dim, key in dims.items():
            cursor.execute(
                f"""
                INSERT INTO reviews_reviewrollup (created_at, updated_at, dimension, key, period,
                    services, ratings, defaults, grade_1, grade_2, grade_3, grade_4, grade_5,
                    score_sum, tickets, followed_up, rectified, rectified_on_time,
                    appeals_decided, appeals_upheld)
                SELECT now(), now(), %s, {key}, s.period, count(*), count(*), 0, {grades},
                    {score}, 0, 0, 0, 0, 0, 0
                FROM reviews_servicerecord s JOIN reviews_rating r ON r.service_id = s.id
                GROUP BY 4, 5
                """,
                [dim],
            )
        cursor.execute("ANALYZE reviews_reviewrollup")


def _measure_page(size: int) -> dict:
    client = Client()
    client.get("/reviews/")  # warm
    times = []
    for _ in range(PAGE_REQUESTS):
        t0 = time.perf_counter()
        response = client.get("/reviews/")
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200
    with CaptureQueriesContext(connection) as queries:
        client.get("/reviews/")
    return {
        "bench": "reviews_stats_page",
        "ratings": size,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "queries": len(queries),
    }


def _measure_submissions(clerk, windows) -> dict:
    from apps.reviews import services

    client = Client()
    tokens = []
    for _ in range(N_SUBMIT):
        service = services.record_window_service(
            clerk=clerk,
            window_id=windows[0].pk,
            department_id=windows[0].departments.first().pk,
            summary="测评服务",
        )
        tokens.append(services.pad_token(service))
    t0 = time.perf_counter()
    for n, token in enumerate(tokens):
        grade = "dissatisfied" if n % 10 == 0 else "satisfied"
        data = {"grade": grade, "options": ["60151"] if grade == "dissatisfied" else []}
        response = client.post(f"/office/reviews/pad/{token}/", data)
        assert response.status_code == 200, response.status_code
    elapsed = time.perf_counter() - t0
    return {
        "bench": "reviews_rating_submissions",
        "ratings": N_SUBMIT,
        "per_second": round(N_SUBMIT / elapsed, 1),
        "mean_ms": round(1000 * elapsed / N_SUBMIT, 1),
    }


def reviews() -> list[dict]:
    region, _departments, _halls, windows, clerk = _setup()
    _truncate()
    results = [_measure_submissions(clerk, windows)]
    _truncate()
    _fill(1, SMALL, region, windows)
    _rebuild_rollups()
    results.append(_measure_page(SMALL))
    if N_RATINGS > SMALL:
        _fill(SMALL + 1, N_RATINGS, region, windows)
        _rebuild_rollups()
        results.append(_measure_page(N_RATINGS))
    return results
