"""办件编号 allocation (DOMAIN.md §1.3): 实施编码 + yyyymmdd + a daily sequence of ≥ 4 digits."""

from __future__ import annotations

from datetime import date

from django.db import connection, transaction
from django.utils import timezone

from apps.cases.models import CaseNumberCounter

SEQUENCE_DIGITS = 4
MAX_NUMBER_LENGTH = 50  # GB/T 39046: 办件编号 an..50

_UPSERT = f"""
INSERT INTO {CaseNumberCounter._meta.db_table} (code, day, last, created_at, updated_at)
VALUES (%s, %s, 1, %s, %s)
ON CONFLICT (code, day) DO UPDATE
   SET last = {CaseNumberCounter._meta.db_table}.last + 1, updated_at = %s
RETURNING last
"""  # noqa: S608 - only the table name is interpolated, from model metadata
# Portable SQL: PostgreSQL, and SQLite ≥ 3.35 (UPSERT … RETURNING) for the zero-setup demo.


def format_case_number(code: str, day: date, sequence: int) -> str:
    return f"{code}{day:%Y%m%d}{sequence:0{SEQUENCE_DIGITS}d}"


def allocate_case_number(*, implementation_code: str, day: date) -> str:
    """The next case number for ``implementation_code`` on ``day``; unique under concurrency.

    Runs in the caller's transaction: the counter row stays locked until it commits, so numbers
    are gap-free as long as the caller commits (a rolled-back caller releases its number).
    """
    code = implementation_code.strip()
    if not code:
        raise ValueError("implementation_code is empty")
    if len(code) + 8 + SEQUENCE_DIGITS > MAX_NUMBER_LENGTH:
        raise ValueError("implementation_code too long for a 50-character case number")
    now = timezone.now()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT, [code, day, now, now, now])
        (sequence,) = cursor.fetchone()
    return format_case_number(code, day, sequence)
