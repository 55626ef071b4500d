"""Identity figures: PII encryption + blind index, ID-number lookup, service-code round trip."""

from __future__ import annotations

import datetime
import statistics
import time


def _ms(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * q))] * 1000, 2)


def pii_and_lookup() -> list[dict]:
    from apps.identity.demo import make_id_number
    from apps.identity.models import PopulationRecord
    from apps.identity.pii import decrypt, encrypt, id_number_index

    first = datetime.date(1960, 1, 1)
    numbers = [
        make_id_number(
            "360102", (first + datetime.timedelta(days=n // 999)).strftime("%Y%m%d"), n % 999 + 1
        )
        for n in range(5000)
    ]
    started = time.perf_counter()
    for number in numbers:
        decrypt(encrypt(number))
        id_number_index(number)
    crypto_rate = len(numbers) / (time.perf_counter() - started)

    PopulationRecord.objects.filter(name__startswith="基准").delete()
    rows = []
    for i, number in enumerate(numbers):
        record = PopulationRecord(name=f"基准{i}")
        record.set_id_number(number)
        rows.append(record)
    PopulationRecord.objects.bulk_create(rows, batch_size=1000)
    latencies = []
    for number in numbers[:1000]:
        t0 = time.perf_counter()
        PopulationRecord.objects.get(id_number_index=id_number_index(number)).id_number  # noqa: B018
        latencies.append(time.perf_counter() - t0)
    PopulationRecord.objects.filter(name__startswith="基准").delete()
    return [
        {
            "metric": "ID number encrypt + decrypt + blind index per second",
            "value": round(crypto_rate),
            "unit": "ops/s",
        },
        {
            "metric": f"population-registry lookup by blind index ({len(numbers)} rows)",
            "value": round(statistics.median(latencies) * 1000, 2),
            "unit": "ms p50",
            "p95_ms": _ms(latencies, 0.95),
        },
    ]


def service_code_round_trip() -> list[dict]:
    from apps.core.models import Department
    from apps.identity import services
    from apps.identity.constants import StaffRole
    from apps.identity.models import Person, ServiceCode, StaffMembership, User

    department = Department.objects.first()
    if department is None:
        from django.core.management import call_command

        call_command("loaddemo", verbosity=0)  # idempotent; brings the demo departments
        department = Department.objects.first()
    holder, _ = User.objects.get_or_create(username="bench-holder")
    Person.objects.get_or_create(user=holder, defaults={"name": "基准"})
    clerk, _ = User.objects.get_or_create(username="bench-clerk")
    StaffMembership.objects.get_or_create(user=clerk, department=department, role=StaffRole.CLERK)
    issue, redeem = [], []
    n = 300
    for _ in range(n):
        t0 = time.perf_counter()
        issued = services.issue_service_code(user=holder)
        t1 = time.perf_counter()
        services.redeem_service_code(issued.code, clerk=clerk)
        t2 = time.perf_counter()
        issue.append(t1 - t0)
        redeem.append(t2 - t1)
    ServiceCode.objects.filter(user=holder).delete()
    return [
        {
            "metric": "service code issue (incl. audit event), committed",
            "value": round(statistics.median(issue) * 1000, 2),
            "unit": "ms p50",
            "p95_ms": _ms(issue, 0.95),
        },
        {
            "metric": "service code redeem (conditional UPDATE + audit event), committed",
            "value": round(statistics.median(redeem) * 1000, 2),
            "unit": "ms p50",
            "p95_ms": _ms(redeem, 0.95),
        },
    ]
