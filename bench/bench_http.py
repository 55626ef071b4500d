"""HTTP throughput of the public catalogue (and two signed-in pages) as a ratio to the floor.

As ``../shared/perf/README.md`` describes (issue 15 §1): the floor (``../shared/perf/baseline``,
a bare Django + DRF project whose ``/api/items?page=3`` is a 20-row joined page with a count over
10,000 rows) and govportal are each served by gunicorn with 2 workers on the same PostgreSQL,
DEBUG off, collected static; ``ratio.sh`` measures every endpoint with ``wrk -t1 -c8`` right after
its own floor run. The catalogue is the demo catalogue plus ``bench.catalog_data`` items, measured
at 10,000 and at 100,000 generated items. One JSON line per endpoint and size: req/s, p50,
non-2xx and the ratio.

Signed-in pages (my cases, the clerk queue) carry a session cookie made for ``demo-citizen`` /
``demo-clerk``: ``ratio.sh`` runs a ``wrk`` shim that adds the ``Cookie`` header (the floor
ignores it). Needs ``wrk`` (installed with apt-get when missing).
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db.models import F

BASE_DIR = Path(settings.BASE_DIR)
PERF_DIR = Path(os.environ.get("PERF_DIR", BASE_DIR.parent / "shared" / "perf"))
SIZES = [int(n) for n in os.environ.get("BENCH_HTTP_SIZES", "10000,100000").split(",")]
SECONDS = os.environ.get("BENCH_HTTP_SECONDS", "8")
# The floor's own database (one per engineer on a shared machine, like DATABASE_URL).
FLOOR_DB = os.environ.get("BENCH_FLOOR_DB", "govportal_bench_floor")
WORKERS = "2"
# Requests per path and worker sent before measuring: every worker has loaded the search
# tokenizer, compiled the templates and filled the caches of every measured path, so the
# figures are the steady state a server reaches in its first seconds, not its start-up.
WARM_ROUNDS = int(os.environ.get("BENCH_HTTP_WARM_ROUNDS", "6"))
# Only these endpoints (names as in endpoints.txt, plus guide, my_cases, clerk_queue), e.g.
# BENCH_HTTP_ONLY=my_cases,clerk_queue; every endpoint when unset.
ONLY = {name for name in os.environ.get("BENCH_HTTP_ONLY", "").split(",") if name}

# The public catalogue endpoints of ../shared/perf/endpoints.txt, plus the guide page and the
# signed-in pages (issue 15 §1).
PUBLIC = (PERF_DIR / "endpoints.txt").read_text(encoding="utf-8") if PERF_DIR.exists() else ""
_LINE = re.compile(
    r"^(?P<name>\S+)\s+(?P<rps>[\d.]+) req/s\s+p50 (?P<p50>\S+)\s+non-2xx (?P<bad>\S+)\s+\|"
    r" floor\s+(?P<floor>[\d.]+) req/s \| ratio (?P<ratio>[\d.]+)"
)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status < 500:
                    return
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:.0f} s")
        time.sleep(0.5)


def _ensure_wrk() -> None:
    if shutil.which("wrk"):
        return
    subprocess.run(["apt-get", "update", "-qq"], check=False, capture_output=True)
    subprocess.run(["apt-get", "install", "-y", "-qq", "wrk"], check=True, capture_output=True)


def _ensure_demo() -> None:
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    if not get_user_model().objects.filter(username="demo-clerk").exists():
        call_command("loaddemo", stdout=open(os.devnull, "w"))  # noqa: SIM115


def _catalogue(n: int) -> int:
    """Exactly ``n`` generated items (besides the demo catalogue); grows or starts over."""
    from bench.bench_catalog import ensure_generated_department
    from bench.catalog_data import delete_generated_items, generate_items, generated_items

    department, template = ensure_generated_department()
    generated = generated_items(department)
    have = generated.count()
    own = generated.filter(current_version__item=F("pk")).count()
    if have > n or own != have:
        delete_generated_items(department)
        have = 0
    if have < n:
        generate_items(n=n - have, start=have, department=department, version=template)
    return generated.count()


def _session_cookie(username: str) -> str:
    from django.contrib.auth import get_user_model
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _guide_paths() -> list[str]:
    from apps.catalog.models import ServiceItem

    codes = (
        ServiceItem.objects.filter(status="published", popularity__gt=0)
        .order_by("-popularity", "implementation_code")
        .values_list("implementation_code", flat=True)[:3]
    )
    return [f"/catalog/items/{quote(code)}/" for code in codes]


class _Servers:
    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.processes: list[subprocess.Popen[bytes]] = []

    def start(self, args: list[str], *, cwd: Path, env: dict[str, str], log: str) -> None:
        with (self.workdir / log).open("wb") as out:
            self.processes.append(
                subprocess.Popen(
                    args,
                    cwd=cwd,
                    env=env,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        self.processes.clear()


def _floor_env() -> dict[str, str]:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "baseline.settings",
        "BASELINE_DB": FLOOR_DB,
        "PYTHONPATH": str(PERF_DIR / "baseline"),
    }


def _prepare_floor() -> None:
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{FLOOR_DB}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", FLOOR_DB], check=True)
    python = sys.executable
    cwd = PERF_DIR / "baseline"
    subprocess.run(
        [python, "manage.py", "migrate", "--noinput", "-v0"], cwd=cwd, env=_floor_env(), check=True
    )
    subprocess.run(
        [python, "-c", "import baseline.management_seed as s; s.run(10000)"],
        cwd=cwd,
        env=_floor_env(),
        check=True,
    )


def _gov_env(static_root: Path) -> dict[str, str]:
    return {
        **os.environ,
        "DEBUG": "false",
        "STATIC_ROOT": str(static_root),
        "STATIC_MANIFEST": "true",
        "CONN_MAX_AGE": "60",
        "CELERY_TASK_ALWAYS_EAGER": "true",
        "LOG_LEVEL": "WARNING",
    }


def _warm(gov: str, lines: list[str], cookie: str = "") -> None:
    """Every path of ``lines`` requested ``WARM_ROUNDS`` × workers times, 4 at once (so each
    gunicorn worker gets its share), before ``ratio.sh`` measures; a non-2xx fails the bench."""
    from concurrent.futures import ThreadPoolExecutor

    paths = [path for line in lines for path in line.split()[1:]]
    headers = {"Cookie": cookie} if cookie else {}

    def get(path: str) -> None:
        request = urllib.request.Request(gov + path, headers=headers)
        with urllib.request.urlopen(request, timeout=60) as response:
            response.read()

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(get, paths * WARM_ROUNDS * int(WORKERS)))


def _load_average() -> float:
    return round(os.getloadavg()[0], 2)


def _run_ratio(gov: str, floor: str, lines: list[str], workdir: Path, cookie: str = "") -> str:
    endpoints = workdir / "endpoints.txt"
    endpoints.write_text("\n".join(lines) + "\n", encoding="utf-8")
    _warm(gov, lines, cookie)
    env = dict(os.environ)
    if cookie:
        shim = workdir / "shim"
        shim.mkdir(exist_ok=True)
        wrk = shim / "wrk"
        wrk.write_text(f'#!/bin/sh\nexec {shutil.which("wrk")} -H "Cookie: $BENCH_COOKIE" "$@"\n')
        wrk.chmod(0o755)
        env["PATH"] = f"{shim}:{env['PATH']}"
        env["BENCH_COOKIE"] = cookie
    return subprocess.run(
        ["bash", str(PERF_DIR / "ratio.sh"), gov, floor, str(endpoints), SECONDS],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def _results(output: str, **extra: object) -> list[dict]:
    rows = []
    load = _load_average()  # right after the run: the machine is shared
    for line in output.splitlines():
        match = _LINE.match(line.strip())
        if match is None:
            continue
        rows.append(
            {
                "endpoint": match["name"],
                "req_per_s": float(match["rps"]),
                "p50": match["p50"],
                "non_2xx": int(match["bad"]) if match["bad"].isdigit() else match["bad"],
                "floor_req_per_s": float(match["floor"]),
                "ratio": float(match["ratio"]),
                "load_average": load,
                **extra,
            }
        )
    return rows


def http_ratios() -> list[dict]:
    from apps.catalog.models import ServiceItem

    _ensure_wrk()
    _ensure_demo()
    _prepare_floor()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-http-") as tmp:
        workdir = Path(tmp)
        static_root = workdir / "static"
        gov_env = _gov_env(static_root)
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=gov_env,
            check=True,
        )
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        for size in SIZES:
            generated = _catalogue(size)
            published = ServiceItem.objects.filter(status="published").count()
            # The catalogue changed outside the services: drop what the portal cached of it.
            from apps.catalog.cache import bump_catalog_generation

            bump_catalog_generation()
            citizen = _session_cookie("demo-citizen")
            clerk = _session_cookie("demo-clerk")
            gov_port, floor_port = _free_port(), _free_port()
            servers = _Servers(workdir)
            try:
                servers.start(
                    [
                        gunicorn,
                        "-w",
                        WORKERS,
                        "-b",
                        f"127.0.0.1:{floor_port}",
                        "baseline.wsgi:application",
                    ],
                    cwd=PERF_DIR / "baseline",
                    env=_floor_env(),
                    log="floor.log",
                )
                servers.start(
                    [
                        gunicorn,
                        "-w",
                        WORKERS,
                        "-b",
                        f"127.0.0.1:{gov_port}",
                        "govportal.wsgi:application",
                    ],
                    cwd=BASE_DIR,
                    env=gov_env,
                    log="govportal.log",
                )
                gov, floor = f"http://127.0.0.1:{gov_port}", f"http://127.0.0.1:{floor_port}"
                _wait_http(f"{floor}/hello")
                _wait_http(f"{gov}/healthz")
                public = [line for line in PUBLIC.splitlines() if line and not line.startswith("#")]
                public.append("guide " + " ".join(_guide_paths()))
                extra = {"generated_items": generated, "published_items": published}
                # One endpoint a ratio.sh run, so each figure carries the load average of
                # its own minute.
                runs = [(line, "") for line in public]
                runs += [("my_cases /cases/mine/", citizen), ("clerk_queue /office/cases/", clerk)]
                if ONLY:
                    runs = [(line, cookie) for line, cookie in runs if line.split()[0] in ONLY]
                for line, cookie in runs:
                    output = _run_ratio(gov, floor, [line], workdir, cookie)
                    results += _results(output, **extra)
                    print(output.strip(), f"load {_load_average()}", file=sys.stderr, flush=True)
            finally:
                servers.stop()
    return results
