"""Celery with a real Redis broker and a real worker process."""

import pytest

from django.db import transaction

from apps.core.models import CalendarDay, CalendarYear
from apps.core.tasks import check_calendar
from tests.conftest import wait_until


@pytest.mark.worker
def test_task_enqueued_on_commit_runs_in_real_worker(celery_worker_process) -> None:
    # given an empty calendar and a running worker process
    assert CalendarDay.objects.count() == 0
    # when the calendar check is enqueued after a commit
    with transaction.atomic():
        transaction.on_commit(check_calendar.delay)
    # then the worker (another process, talking to Redis and PostgreSQL) seeds the calendar
    assert wait_until(lambda: CalendarYear.objects.filter(year=2026).exists(), timeout=60), (
        celery_worker_process.log()[-3000:]
    )
    assert CalendarDay.objects.filter(date="2026-10-10", kind="workday").exists()
    assert "core.check_calendar" in celery_worker_process.log()
