#!/usr/bin/env python3
"""Check that the runtime lock ALONE runs govportal in production shape (issue 17).

``make test`` runs this before pytest. In a virtual environment of its own (``var/runtime-venv``,
rebuilt only when ``requirements.lock`` changes) holding nothing but ``requirements.lock``,
installed with ``pip --require-hashes``, it:

1. imports every module under ``apps/`` and ``govportal/``, every dotted path the settings name
   (middleware, backends, storages, formatters, DRF classes) and the Celery broker transport;
2. runs ``manage.py check --deploy`` with production-like settings (``DEBUG=false``, fresh keys);
3. migrates a database of its own on PostgreSQL and runs ``loaddemo``;
4. starts the ``ExecStart`` commands of ``deploy/systemd/`` (gunicorn, a Celery worker, Celery
   beat; on a Redis database of its own) and the push department simulator, checks
   ``/healthz`` (broker in Redis mode), waits for the worker's ping, accepts one submitted demo
   case and waits until the department's decision has come back through the API (已决定).

Any failure stops it with a message naming the step; a missing module is named as such
(``MISSING MODULE: packaging``). Standard library only: it runs on the system Python.

    python3 scripts/runtime_check.py                 # everything (make test)
    python3 scripts/runtime_check.py --only imports  # step 1 only
    python3 scripts/runtime_check.py --lock scratch.lock --venv /tmp/v --only imports

Environment: ``RUNTIME_CHECK_DATABASE_URL`` (default
``postgres://postgres@127.0.0.1:5432/govportal_runtime_check``, dropped and re-created each run),
``RUNTIME_CHECK_REDIS_URL`` (default ``redis://127.0.0.1:6379/13``, flushed each run).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import secrets
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/govportal_runtime_check"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/13"
SIM_KEY = "demo-k1=demo-handoff-secret-please-rotate"
MISSING = re.compile(r"No module named '([\w.]+)'")
UNITS = ROOT / "deploy" / "systemd"


class CheckFailed(Exception):
    def __init__(self, step: str, detail: str, output: str = "") -> None:
        super().__init__(step)
        self.step = step
        self.detail = detail
        self.output = output


def say(message: str) -> None:
    print(f"runtime check: {message}", flush=True)


# --- the virtual environment ------------------------------------------------------------------


def lock_digest(lock: Path) -> str:
    digest = hashlib.sha256(lock.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_venv(lock: Path, venv: Path) -> Path:
    """The venv holding exactly ``lock``; reused while the lock (and Python) are unchanged."""
    python = venv / "bin" / "python"
    stamp = venv / ".lock-sha256"
    digest = lock_digest(lock)
    if python.exists() and stamp.exists() and stamp.read_text().strip() == digest:
        return python
    say(f"building {venv} from {lock.name} (pip --require-hashes)")
    shutil.rmtree(venv, ignore_errors=True)
    run_step("venv", [sys.executable, "-m", "venv", str(venv)])
    run_step(
        "install",
        [str(python), "-m", "pip", "install", "-q", "--require-hashes", "-r", str(lock)],
        env={"PIP_DISABLE_PIP_VERSION_CHECK": "1"},
    )
    stamp.write_text(digest + "\n")
    return python


# --- processes ----------------------------------------------------------------------------


def run_step(
    step: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None, timeout: int = 300
) -> str:
    try:
        done = subprocess.run(  # noqa: S603 - our own commands
            list(argv),
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(step, f"timed out after {timeout} s", str(exc.output or "")) from exc
    output = done.stdout + done.stderr
    if done.returncode != 0:
        raise CheckFailed(step, f"exit status {done.returncode}", output)
    return output


def unit_command(unit: str, bin_dir: Path, options: Mapping[str, str]) -> list[str]:
    """The ExecStart of ``deploy/systemd/<unit>`` run from ``bin_dir``, some option values
    replaced (``{"--bind": "127.0.0.1:1234"}``): the check starts what production starts."""
    lines = (UNITS / unit).read_text().splitlines()
    argv = shlex.split(next(line for line in lines if line.startswith("ExecStart="))[10:])
    argv[0] = str(bin_dir / Path(argv[0]).name)
    for index, arg in enumerate(argv[:-1]):
        if arg in options:
            argv[index + 1] = options[arg]
    missing = set(options) - set(argv)
    if missing:
        raise CheckFailed(f"unit {unit}", f"ExecStart lacks {sorted(missing)}")
    return argv


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def background(
    name: str, argv: Sequence[str], env: Mapping[str, str], logs: Path
) -> Iterator[subprocess.Popen[bytes]]:
    log = (logs / f"{name}.log").open("wb")
    proc = subprocess.Popen(  # noqa: S603 - our own commands
        list(argv),
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield proc
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        log.close()


def wait_for(
    step: str, predicate, timeout: float, procs: Mapping[str, subprocess.Popen[bytes]], logs: Path
) -> object:
    deadline = time.monotonic() + timeout
    while True:
        for name, proc in procs.items():
            if proc.poll() is not None:
                output = (logs / f"{name}.log").read_text(errors="replace")
                raise CheckFailed(step, f"{name} exited with status {proc.returncode}", output)
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            output = "\n".join(
                f"--- {name}.log ---\n" + (logs / f"{name}.log").read_text(errors="replace")[-3000:]
                for name in procs
            )
            raise CheckFailed(step, f"not reached within {timeout:.0f} s", output)
        time.sleep(0.5)


def http_json(url: str) -> tuple[int, dict[str, object]] | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read() or b"{}")
    except (OSError, ValueError):
        return None


# --- the steps ----------------------------------------------------------------------------

IMPORTS = """
import importlib, pkgutil, sys
import django
django.setup()
from django.conf import settings
names = []
for package in ("govportal", "apps"):
    module = importlib.import_module(package)
    names.append(package)
    names += [m.name for m in pkgutil.walk_packages(module.__path__, package + ".")]
def dotted(value):
    if isinstance(value, str):
        if value.count(".") and " " not in value and "/" not in value and value[0].isalpha():
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from dotted(item)
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from dotted(item)
paths = [*settings.INSTALLED_APPS, *settings.MIDDLEWARE, *settings.AUTHENTICATION_BACKENDS]
for setting in ("REST_FRAMEWORK", "STORAGES", "CACHES", "LOGGING", "TEMPLATES", "OAUTH2_PROVIDER",
                "DATABASES"):
    paths += [p for p in dotted(getattr(settings, setting)) if p.split(".")[0].isidentifier()]
from django.utils.module_loading import import_string
for name in names:
    importlib.import_module(name)
for path in paths:
    try:
        importlib.import_module(path)
    except ImportError as exc:
        if getattr(exc, "name", None) and exc.name != path and not path.startswith(exc.name):
            raise
        try:
            import_string(path)
        except ImportError as inner:
            if "No module named" in str(inner):
                raise
# Loaded lazily by URL scheme when the first task is published: import it now.
from kombu.transport import resolve_transport
resolve_transport("redis")
import django.core.cache.backends.redis, django.db.backends.postgresql.base, psycopg
import gunicorn.app.wsgiapp, whitenoise.middleware, celery.apps.worker, celery.apps.beat
print(f"imported {len(names)} modules and {len(paths)} settings paths")
"""

ACCEPT = """
from apps.cases import services
from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.identity.demo import DEMO_DEPARTMENT_USCC
from apps.identity.models import User
case = (Case.objects.filter(status=CaseStatus.SUBMITTED,
        department__uscc=DEMO_DEPARTMENT_USCC).order_by("pk").first())
assert case is not None, "no submitted demo case in the demo department"
clerk = User.objects.get(username="demo-clerk")
services.accept_case(case_id=case.pk, actor=CaseActor(user=clerk), note="runtime check")
print(case.pk)
"""

WAIT_DECIDED = """
import os, time
from apps.cases.models import Case
deadline = time.monotonic() + 90
case = Case.objects.get(pk=int(os.environ["CHECK_CASE_ID"]))
while case.status != "decided" and time.monotonic() < deadline:
    time.sleep(0.5)
    case.refresh_from_db()
print(case.status)
"""


def production_env(python: Path, database_url: str, redis_url: str, site: str) -> dict[str, str]:
    rsa = run_step(
        "keys",
        [
            str(python),
            "-c",
            "from cryptography.hazmat.primitives.asymmetric import rsa;"
            "from cryptography.hazmat.primitives import serialization as s;"
            "k=rsa.generate_private_key(public_exponent=65537,key_size=2048);"
            "print(k.private_bytes(s.Encoding.PEM,s.PrivateFormat.PKCS8,"
            "s.NoEncryption()).decode())",
        ],
    )
    return {
        "DJANGO_SETTINGS_MODULE": "govportal.settings",
        "DEBUG": "false",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": site,
        "SECURE_SSL_REDIRECT": "true",
        "SECURE_HSTS_SECONDS": "31536000",
        "SECURE_COOKIES": "true",
        "PII_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "PII_INDEX_KEY": secrets.token_urlsafe(32),
        "OIDC_RSA_PRIVATE_KEY": rsa.strip(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "LOG_LEVEL": "WARNING",
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def reset_services(python: Path, env: Mapping[str, str]) -> None:
    script = """
import os, environ, psycopg, redis
from psycopg import sql
cfg = environ.Env.db_url_config(os.environ["DATABASE_URL"])
name = cfg["NAME"]
with psycopg.connect(host=cfg["HOST"] or None, port=cfg["PORT"] or None, user=cfg["USER"] or None,
                     password=cfg["PASSWORD"] or None, dbname="postgres", autocommit=True) as c:
    c.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
redis.Redis.from_url(os.environ["REDIS_URL"]).flushdb()
"""
    run_step("reset database and Redis", [str(python), "-c", script], env=env)


def check_imports(python: Path) -> None:
    env = {
        "DJANGO_SETTINGS_MODULE": "govportal.settings",
        "DEBUG": "true",
        "REDIS_URL": "redis://127.0.0.1:6379/13",
        "DATABASE_URL": "sqlite:///:memory:",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    say(run_step("imports", [str(python), "-c", IMPORTS], env=env).strip().splitlines()[-1])


def check_round_trip(python: Path, database_url: str, redis_url: str, logs: Path) -> None:
    port, sim_port = free_port(), free_port()
    site = f"http://127.0.0.1:{port}"
    env = production_env(python, database_url, redis_url, site)
    env["DEMO_SIMULATOR_PORT"] = str(sim_port)
    env["STATIC_ROOT"] = str(logs / "static")
    env["MEDIA_ROOT"] = str(logs / "media")
    manage = [str(python), "manage.py"]
    output = run_step("check --deploy", [*manage, "check", "--deploy"], env=env)
    # Every warning fails the check except the OpenAPI schema generator's (drf_spectacular.W001:
    # naming hints about the schema, not about the deployment; docs/deploy.md).
    warnings = [
        line
        for line in output.splitlines()
        if re.match(r"^\S*: \((?!drf_spectacular\.)[\w.]+\)", line)
    ]
    if warnings:
        raise CheckFailed("check --deploy", f"{len(warnings)} warning(s)", "\n".join(warnings))
    say("check --deploy: no errors, no deployment warnings")
    reset_services(python, env)
    run_step("migrate", [*manage, "migrate", "--noinput", "-v", "0"], env=env)
    run_step("collectstatic", [*manage, "collectstatic", "--noinput", "-v", "0"], env=env)
    run_step("loaddemo", [*manage, "loaddemo"], env=env)
    say("migrate, collectstatic and loaddemo on PostgreSQL: done")
    bin_dir = python.parent
    # Production serves http behind a TLS proxy; here the proxy's header is faked.
    web_env = {**env, "SECURE_SSL_REDIRECT": "false"}
    sim = [
        *manage,
        "department_simulator",
        "--mode=push",
        f"--port={sim_port}",
        f"--key={SIM_KEY}",
        f"--record={logs / 'sim.sqlite3'}",
        f"--portal-url={site}",
        "--client-id=demo-dept-api",
        "--client-secret=govportal-demo-secret",
        "--answer=both",
        "--answer-subject=cases.case",
    ]
    with (
        background(
            "gunicorn",
            unit_command(
                "govportal-web.service",
                bin_dir,
                {"--bind": f"127.0.0.1:{port}", "--workers": "2"},
            ),
            web_env,
            logs,
        ) as web,
        background(
            "worker",
            unit_command("govportal-worker.service", bin_dir, {"--concurrency": "1"}),
            env,
            logs,
        ) as worker,
        background(
            "beat",
            unit_command(
                "govportal-beat.service", bin_dir, {"--schedule": str(logs / "beat-schedule")}
            ),
            env,
            logs,
        ) as beat,
        background("simulator", sim, env, logs) as simulator,
    ):
        procs = {"gunicorn": web, "worker": worker, "beat": beat, "simulator": simulator}
        health = wait_for(
            "gunicorn /healthz", lambda: http_json(f"{site}/healthz"), 60, procs, logs
        )
        status, body = health  # type: ignore[misc]
        broker = body.get("broker", {})
        if status != 200 or broker.get("mode") != "redis" or not broker.get("ok"):
            raise CheckFailed("gunicorn /healthz", f"{status} {json.dumps(body)[:500]}")
        say("gunicorn answers /healthz: database and broker (redis) ok")
        ping = [str(bin_dir / "celery"), "-A", "govportal", "inspect", "ping", "--timeout=2"]
        wait_for(
            "worker ping",
            lambda: (
                subprocess.run(  # noqa: S603
                    ping, cwd=ROOT, env={**os.environ, **env}, capture_output=True, check=False
                ).returncode
                == 0
            ),
            60,
            procs,
            logs,
        )
        case_id = run_step("accept a case", [*manage, "shell", "-c", ACCEPT], env=env)
        case_id = case_id.strip().splitlines()[-1]
        say(f"accepted case {case_id}; waiting for the department's decision")

        status = run_step(
            "handoff round trip",
            [*manage, "shell", "-c", WAIT_DECIDED],
            env={**env, "CHECK_CASE_ID": case_id},
            timeout=120,
        )
        for name, proc in procs.items():
            if proc.poll() is not None:
                output = (logs / f"{name}.log").read_text(errors="replace")
                raise CheckFailed("handoff round trip", f"{name} exited", output)
        if status.strip().splitlines()[-1] != "decided":
            output = "\n".join(
                f"--- {n}.log ---\n" + (logs / f"{n}.log").read_text(errors="replace")[-3000:]
                for n in procs
            )
            raise CheckFailed("handoff round trip", f"case {case_id} is {status.strip()}", output)
        say(f"case {case_id}: pushed to the simulator by the worker and decided by it: 已决定")


def missing_module(text: str) -> str | None:
    found = MISSING.findall(text)
    return found[-1] if found else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--lock", type=Path, default=ROOT / "requirements.lock")
    parser.add_argument("--venv", type=Path, default=ROOT / "var" / "runtime-venv")
    parser.add_argument("--only", choices=["imports"], default=None)
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "runtime-check")
    args = parser.parse_args(argv)
    database_url = os.environ.get("RUNTIME_CHECK_DATABASE_URL", DEFAULT_DATABASE_URL)
    redis_url = os.environ.get("RUNTIME_CHECK_REDIS_URL", DEFAULT_REDIS_URL)
    logs = args.logs.resolve()
    shutil.rmtree(logs, ignore_errors=True)
    logs.mkdir(parents=True)
    started = time.monotonic()
    try:
        python = ensure_venv(args.lock.resolve(), args.venv.resolve())
        check_imports(python)
        if args.only != "imports":
            check_round_trip(python, database_url, redis_url, logs)
    except CheckFailed as failure:
        module = missing_module(failure.output)
        print(failure.output[-4000:], file=sys.stderr)
        if module:
            print(
                f"runtime check FAILED at '{failure.step}': MISSING MODULE: {module} - it is "
                f"imported at runtime but {args.lock.name} does not install it; declare it in "
                "requirements.txt and run `make lock`.",
                file=sys.stderr,
            )
        else:
            print(
                f"runtime check FAILED at '{failure.step}': {failure.detail} (logs: {logs})",
                file=sys.stderr,
            )
        return 1
    say(f"OK in {time.monotonic() - started:.0f} s (logs: {logs})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
