"""办件编号 (DOMAIN.md §1.3): 实施编码 + yyyymmdd + daily sequence, unique under concurrency."""

import threading
from datetime import date

import pytest

from django.db import connection

from apps.cases.models import CaseNumberCounter
from apps.cases.numbering import allocate_case_number, format_case_number

CODE = "11360000MB1234567X3360100001000"


@pytest.mark.django_db
def test_sequence_counts_per_code_and_day() -> None:
    # given two days and two codes
    day1, day2 = date(2026, 9, 30), date(2026, 10, 8)
    # when numbers are allocated
    first = allocate_case_number(implementation_code=CODE, day=day1)
    second = allocate_case_number(implementation_code=CODE, day=day1)
    next_day = allocate_case_number(implementation_code=CODE, day=day2)
    other = allocate_case_number(implementation_code="OTHER", day=day1)
    # then each (code, day) has its own sequence starting at 0001
    assert first == f"{CODE}202609300001"
    assert second == f"{CODE}202609300002"
    assert next_day == f"{CODE}202610080001"
    assert other == "OTHER202609300001"
    assert CaseNumberCounter.objects.get(code=CODE, day=day1).last == 2


def test_sequence_widens_past_four_digits() -> None:
    assert format_case_number("X", date(2026, 1, 2), 12345) == "X2026010212345"


@pytest.mark.django_db
def test_rejects_empty_code() -> None:
    with pytest.raises(ValueError, match="empty"):
        allocate_case_number(implementation_code="  ", day=date(2026, 1, 5))


@pytest.mark.django_db(transaction=True)
def test_concurrent_allocation_gives_distinct_gap_free_numbers() -> None:
    # given 8 threads, each with its own database connection, allocating 25 numbers each
    day = date(2026, 10, 9)
    results: list[str] = []
    guard = threading.Lock()
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            barrier.wait()
            mine = [allocate_case_number(implementation_code=CODE, day=day) for _ in range(25)]
            with guard:
                results.extend(mine)
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(8)]
    # when they run at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then all 200 numbers are distinct and form 0001..0200 with no gap
    assert errors == []
    assert len(set(results)) == 200
    assert sorted(results) == [format_case_number(CODE, day, n) for n in range(1, 201)]
