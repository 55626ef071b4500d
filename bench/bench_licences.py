"""E-licence verification figures (issue 11).

* **Verification by token**: the public page ``GET /licences/verify/?token=…`` (token lookup by
  its SHA-256, licence, type and issuer in one join, masked face data, verification record),
  p50/p95 over ``REQUESTS`` requests and the query count.
* **Verification by file upload**: ``POST /licences/verify/`` with the sealed PDF (SM3 of the
  file through OpenSSL, the GB/T 38540-style seal checks with three pure-Python SM2
  verifications, the file row by its digest, the status), p50/p95 and requests per second.
* **Issuance with file and seal**: licences issued and their PDF rendered and sealed, per second.

Both run through Django's test client in this process (full middleware and templates,
PostgreSQL) with ``BENCH_LICENCES`` other licences in the table (default 1,000,000, written by
one ``INSERT … SELECT`` over ``generate_series``); the lookups are by unique indexes, so the
table size should not show. Over HTTP against gunicorn, with the wallet page: ``licences_http``
(``bench/bench_licences_http.py``).
"""

from __future__ import annotations

import os
import secrets
import statistics
import time

from stdnum.cn import ric

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

N_FILL = int(os.environ.get("BENCH_LICENCES", "1000000"))
REQUESTS = int(os.environ.get("BENCH_LICENCES_REQUESTS", "100"))
N_ISSUE = int(os.environ.get("BENCH_LICENCES_ISSUE", "20"))


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def _setup():
    from apps.core.models import Department, Region
    from apps.licences.seed import ensure_seed_catalogue
    from tests.core.factories import make_uscc

    ensure_seed_catalogue()
    region, _ = Region.objects.get_or_create(code="360100", defaults={"name": "南昌市", "level": 2})
    department, _ = Department.objects.get_or_create(
        uscc=make_uscc(99001, "360100"),
        defaults={"name": "基准测试市场监督管理局", "region": region, "level": 3},
    )
    return department


def _fill(department, count: int) -> None:
    from apps.identity.pii import encrypt
    from apps.licences.models import Licence, LicenceType

    existing = Licence.objects.filter(serial__startswith="BENCH").count()
    if existing >= count:
        return
    kind = LicenceType.objects.get(name="机动车驾驶证")
    cipher = encrypt("110105194912310021")
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO licences_licence (licence_type_id, identifier, serial, version, number,
                name, issuer_id, issuer_code, jurisdiction_code, holder_kind, holder_code_type,
                holder_name, holder_code, holder_code_index, issued_on, valid_from, valid_until,
                face_data, status, status_changed_at, exclusive, created_at, updated_at)
            SELECT %s, '1.2.156.3005.2.BENCH.' || g, 'BENCH' || g, 1, 'BENCH' || g, %s, %s, %s,
                '360100', 'person', '111', '基准', %s, md5(g::text), DATE '2024-01-01',
                DATE '2024-01-01', DATE '2034-01-01', '{"XM": "基准"}'::jsonb, 'valid', now(),
                false, now(), now()
            FROM generate_series(%s, %s) AS g
            """,
            [kind.pk, kind.name, department.pk, department.uscc, cipher, existing + 1, count],
        )
        cursor.execute("ANALYZE licences_licence")


def _holder():
    from tests.identity.factories import verified_user

    body = f"360102{19500101 + secrets.randbelow(500) * 10000 + secrets.randbelow(28):08d}"
    body += f"{secrets.randbelow(1000):03d}"
    return verified_user(
        "基准持证人",
        id_number=body + ric.calc_check_digit(body),
        user__username=f"bench-licence-{secrets.token_hex(6)}",
    )


def _issue_to(department, holder):
    from apps.licences.models import LicenceType
    from apps.licences.services import LicenceActor, issue_licence

    return issue_licence(
        type_code=LicenceType.objects.get(name="机动车驾驶证").code,
        issuer=department,
        actor=LicenceActor(department=department),
        holder_user=holder,
        face_data={"XM": "基准持证人", "ZJCX": "C1"},
    )


def _holder_licence(department):
    return _issue_to(department, _holder())


def _measure(label: str, call, count: int) -> dict:
    call()  # warm
    times = []
    for _ in range(count):
        t0 = time.perf_counter()
        response = call()
        times.append((time.perf_counter() - t0) * 1000)
        assert response.status_code == 200, response.status_code
    with CaptureQueriesContext(connection) as queries:
        call()
    return {
        "bench": label,
        "licences": N_FILL,
        "requests": count,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "per_second": round(1000 * count / sum(times), 1),
        "queries": len(queries),
    }


def _measure_issuance(department) -> dict:
    from apps.licences.services import ensure_licence_file

    # Holders first: the test factory hashes a password (PBKDF2, ~0.5 s), which is no part of
    # issuing.
    holders = [_holder() for _ in range(N_ISSUE)]
    t0 = time.perf_counter()
    for holder in holders:
        licence = _issue_to(department, holder)
        ensure_licence_file(licence_id=licence.pk)
    elapsed = time.perf_counter() - t0
    return {
        "bench": "licences_issue_with_sealed_file",
        "licences": N_ISSUE,
        "per_second": round(N_ISSUE / elapsed, 2),
        "mean_ms": round(1000 * elapsed / N_ISSUE, 1),
    }


def licences() -> list[dict]:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from apps.licences.services import create_verification_token, ensure_licence_file

    department = _setup()
    _fill(department, N_FILL)
    licence = _holder_licence(department)
    token, _row = create_verification_token(licence_id=licence.pk, user=None)
    content = bytes(ensure_licence_file(licence_id=licence.pk).content)
    client = Client()
    results = []
    with override_settings(LICENCE_VERIFY_PAGE_RATE=10**9):
        results.append(
            _measure(
                "licences_verify_token_page",
                lambda: client.get("/licences/verify/", {"token": token}),
                REQUESTS,
            )
        )
        results.append(
            _measure(
                "licences_verify_file_upload",
                lambda: client.post(
                    "/licences/verify/",
                    {"file": SimpleUploadedFile("l.pdf", content, "application/pdf")},
                ),
                max(REQUESTS // 4, 5),
            )
        )
    results.append(_measure_issuance(department))
    return results
