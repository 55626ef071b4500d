"""Shared fixtures: actors, and a real Celery worker process against the real Redis broker."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis

from django.conf import settings

from govportal.celery import app as celery_app

ROOT = Path(__file__).resolve().parent.parent
LOG_DIR = ROOT / "var" / "test-logs"


@pytest.fixture(autouse=True)
def _isolated_cache() -> None:
    """The Django cache is Redis db 15 in tests: start every test from an empty cache."""
    from django.core.cache import cache

    from apps.core import calendar

    cache.clear()
    calendar.invalidate_calendar()


@pytest.fixture(scope="session", autouse=True)
def _flush_by_delete() -> Iterator[None]:
    """Empty the tables after a transactional test with DELETE instead of TRUNCATE.

    Django's flush truncates all ~125 tables in one statement, which gives each table and index
    new files: ~2.6 s after every browser, worker and live-server test on these machines. A
    DELETE on a table a test left empty costs well under a millisecond. The append-only and
    immutable-version triggers (audit, catalogue) would refuse DELETE, and foreign keys would
    want an order, so the statements run with ``session_replication_role = replica`` in the
    flush's own transaction - which needs a superuser, as the test database's owner is on these
    machines; otherwise, and whenever sequences must be reset, Django's TRUNCATE stays.
    """
    from django.db import connection
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.sql_flush
    superuser: dict[str, bool] = {}

    def sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        alias = self.connection.alias
        if alias not in superuser:
            with self.connection.cursor() as cursor:
                cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
                superuser[alias] = bool(cursor.fetchone()[0])
        if reset_sequences or not tables or not superuser[alias]:
            return original(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        quote = self.quote_name
        return [
            "SET LOCAL session_replication_role = replica",
            *(f"DELETE FROM {quote(table)}" for table in tables),
        ]

    if connection.vendor != "postgresql":
        yield
        return
    DatabaseOperations.sql_flush = sql_flush
    yield
    DatabaseOperations.sql_flush = original


_FLUSHING_FIXTURES = {"transactional_db", "live_server", "django_db_reset_sequences"}


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None):
    """Put back the reference rows data migrations seed (the licence catalogue, the review
    indicator sets) after a transactional test: its teardown flushes every table, and later
    tests - and the catalogue's validation of licence types - rely on those rows.

    A hook wrapper, because it must run after every fixture's teardown, the flush included.
    """
    result = yield
    marker = item.get_closest_marker("django_db")
    flushed = bool(_FLUSHING_FIXTURES & set(getattr(item, "fixturenames", ()))) or bool(
        marker and marker.kwargs.get("transaction")
    )
    # After the last test the session's teardown has already dropped the test database.
    if flushed and nextitem is not None:
        from pytest_django.plugin import blocking_manager_key

        from apps.licences.seed import ensure_seed_catalogue
        from apps.reviews.indicators import ensure_indicator_sets

        with item.config.stash[blocking_manager_key].unblock():
            ensure_seed_catalogue()
            ensure_indicator_sets()
    return result


@pytest.fixture(autouse=True)
def _case_files(settings, tmp_path_factory: pytest.TempPathFactory) -> None:
    """Uploaded case materials go to the run's temporary directory, never to var/media."""
    settings.CASES_UPLOAD_ROOT = tmp_path_factory.getbasetemp() / "case-files"


@pytest.fixture(autouse=True)
def _fast_password_hasher(settings) -> None:
    """PBKDF2 at full strength costs ~0.5 s per account on the shared machine; tests only need
    passwords to round-trip (the production hasher is exercised by Django itself)."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def demo_loaders_up_to(monkeypatch: pytest.MonkeyPatch):
    """Run ``loaddemo`` with its loaders up to and including ``last`` (dotted path): an app's
    demo test needs the data its loader builds on, not the loaders after it."""

    def limit(last: str) -> None:
        from apps.core.management.commands import loaddemo

        loaders = list(loaddemo.DEMO_LOADERS)
        monkeypatch.setattr(loaddemo, "DEMO_LOADERS", loaders[: loaders.index(last) + 1])

    return limit


@pytest.fixture
def sms_outbox() -> Iterator[list]:
    """The locmem SMS outbox (``SMS_BACKEND`` in tests), emptied before and after the test."""
    from apps.notifications import sms

    sms.outbox.clear()
    yield sms.outbox
    sms.outbox.clear()


# --- actors -------------------------------------------------------------------------------


@pytest.fixture
def department():
    from tests.core.factories import DepartmentFactory

    return DepartmentFactory(name="南昌市市场监督管理局")


@pytest.fixture
def other_department():
    from tests.core.factories import DepartmentFactory

    return DepartmentFactory(name="九江市市场监督管理局")


@pytest.fixture
def clerk(department):
    from apps.identity.constants import StaffRole
    from tests.identity.factories import StaffMembershipFactory

    return StaffMembershipFactory(department=department, role=StaffRole.CLERK).user


@pytest.fixture
def dept_admin(department):
    from apps.identity.constants import StaffRole
    from tests.identity.factories import StaffMembershipFactory

    return StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user


@pytest.fixture
def dept_client(department):
    """A DRF APIClient authenticated as ``department``'s system with every scope but the
    separately granted ``cases:pii`` (tests/cases/test_personal_data.py covers that one)."""
    from rest_framework.test import APIClient

    from apps.identity.constants import ApiScope
    from tests.identity.factories import ApiClientFactory, issue_token

    api_client = ApiClientFactory(department=department)
    token = issue_token(api_client, " ".join(s for s in ApiScope.values if s != ApiScope.CASES_PII))
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    client.api_client = api_client
    return client


def _database_url() -> str:
    db = settings.DATABASES["default"]
    user = db.get("USER") or "postgres"
    host = db.get("HOST") or "127.0.0.1"
    port = db.get("PORT") or 5432
    return f"postgres://{user}@{host}:{port}/{db['NAME']}"


class WorkerProcess:
    """A ``celery worker`` subprocess using the test database and the test Redis database.

    Tests may ``kill()`` it (SIGKILL, as a crashed machine would) and ``start()`` it again.
    """

    def __init__(
        self,
        *,
        concurrency: int = 2,
        extra_args: tuple[str, ...] = (),
        env: dict[str, str] | None = None,
    ) -> None:
        self.concurrency = concurrency
        self.extra_args = extra_args
        # Settings for this worker only (e.g. short retry/sweeper intervals, another broker).
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None
        self.name = ""
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"worker-{uuid.uuid4().hex[:8]}.log"

    def start(self, *, timeout: float = 60.0) -> None:
        env = os.environ.copy()
        env.update(
            DATABASE_URL=_database_url(),
            CELERY_TASK_ALWAYS_EAGER="false",
            PYTHONUNBUFFERED="1",
        )
        env.update(self.env)
        self.name = f"test-{uuid.uuid4().hex[:8]}@%h"
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "govportal",
                "worker",
                "-l",
                "info",
                "-c",
                str(self.concurrency),
                "-n",
                self.name,
                "--without-gossip",
                "--without-mingle",
                *self.extra_args,
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        hostname = self.name.replace("%h", os.uname().nodename)
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(
                    f"celery worker exited with {self.process.returncode}; log: {self.log_path}"
                )
            replies = celery_app.control.ping(destination=[hostname], timeout=0.5) or []
            if replies:
                return
        raise RuntimeError(f"celery worker not ready after {timeout}s; log: {self.log_path}")

    def kill(self) -> None:
        """SIGKILL the whole worker process group (main process and pool children)."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 9)
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The real Redis broker (test database), emptied, with Celery publishing to it."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    try:
        client.ping()
    except redis.RedisError as exc:  # pragma: no cover - make test starts Redis first
        pytest.fail(f"Redis is not answering at {settings.CELERY_BROKER_URL}: {exc}")
    client.flushdb()
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    yield client
    celery_app.conf.task_always_eager = previous
    client.flushdb()
    client.close()


@pytest.fixture
def celery_worker_process(transactional_db: None, broker: redis.Redis) -> Iterator[WorkerProcess]:
    """A real worker process; the test's writes must be committed (transactional_db)."""
    worker = WorkerProcess()
    worker.start()
    yield worker
    worker.stop()


@pytest.fixture
def celery_worker_factory(
    transactional_db: None, broker: redis.Redis
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start workers with their own settings: ``celery_worker_factory(env={...}, beat=True)``.

    ``beat=True`` embeds Celery beat (``-B``) so scheduled tasks such as sweepers run. Every
    worker started is stopped at teardown.
    """
    workers: list[WorkerProcess] = []

    def start(
        *, env: dict[str, str] | None = None, beat: bool = False, concurrency: int = 2
    ) -> WorkerProcess:
        extra: tuple[str, ...] = ()
        if beat:
            schedule = LOG_DIR / f"beat-{uuid.uuid4().hex[:8]}"
            extra = ("-B", "-s", str(schedule))
        worker = WorkerProcess(concurrency=concurrency, extra_args=extra, env=env)
        workers.append(worker)
        worker.start()
        return worker

    yield start
    for worker in workers:
        worker.stop()


@pytest.fixture
def department_simulator(tmp_path):
    """Start ``manage.py department_simulator`` subprocesses: ``department_simulator(*options)``
    (tests/handoffs/processes.py; ``push_endpoint`` in tests/handoffs/factories.py points a
    department's push endpoint at one). Each is stopped (SIGTERM) at teardown; its SQLite
    record stays in ``tmp_path``.
    """
    from tests.handoffs.processes import SimulatorProcess

    started: list[SimulatorProcess] = []

    def start(*options: str, env: dict | None = None) -> SimulatorProcess:
        simulator = SimulatorProcess(options, directory=tmp_path, env=env).start()
        started.append(simulator)
        return simulator

    yield start
    for simulator in started:
        simulator.stop()


def wait_until(predicate: object, *, timeout: float = 30.0, interval: float = 0.1) -> bool:
    """Poll ``predicate()`` until it is truthy or ``timeout`` passes (for cross-process tests)."""
    assert callable(predicate)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
