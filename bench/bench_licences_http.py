"""E-licence verification and wallet over HTTP against gunicorn (``python -m bench licences_http``).

The table holds ``BENCH_LICENCES`` licences (default 1,000,000, written by ``bench_licences``'s
``INSERT … SELECT generate_series``), one issued licence with its sealed PDF, and one holder with
``BENCH_WALLET_LICENCES`` (default 50) licences of assorted types. govportal runs under gunicorn
(2 sync workers, DEBUG off, collected static, the verification rate limits lifted through
``LICENCE_VERIFY_PAGE_RATE`` / ``LICENCE_VERIFY_API_RATE``) and ``wrk`` measures each endpoint for
``BENCH_HTTP_SECONDS`` seconds twice: with 1 connection (latency: p50/p95 is the service time)
and with 8 (throughput: req/s with both workers busy; its latency includes queueing).

* ``verify_token_page``: ``GET /licences/verify/?token=…`` (the page a QR opens)
* ``verify_token_api``: ``GET /api/v1/licences/verify/?token=…``
* ``verify_file_api``: ``POST /api/v1/licences/verify/`` with the sealed PDF (multipart)
* ``wallet``: ``GET /licences/`` signed in as the holder of the 50 licences
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from django.conf import settings
from django.db import connection

from bench.bench_http import _ensure_wrk, _free_port, _gov_env, _Servers, _wait_http
from bench.bench_licences import N_FILL, _fill, _holder_licence, _setup

BASE_DIR = Path(settings.BASE_DIR)
SECONDS = os.environ.get("BENCH_HTTP_SECONDS", "10")
N_WALLET = int(os.environ.get("BENCH_WALLET_LICENCES", "50"))
WORKERS = "2"

# wrk script: optional body from a file, one JSON line with the figures at the end.
_LUA = r"""
local body_file = os.getenv("BENCH_BODY_FILE")
wrk.method = os.getenv("BENCH_METHOD") or "GET"
if os.getenv("BENCH_CONTENT_TYPE") then
  wrk.headers["Content-Type"] = os.getenv("BENCH_CONTENT_TYPE")
end
if os.getenv("BENCH_COOKIE") then wrk.headers["Cookie"] = os.getenv("BENCH_COOKIE") end
if body_file then
  local f = io.open(body_file, "rb"); wrk.body = f:read("*a"); f:close()
end
done = function(summary, latency, requests)
  local bad = summary.errors.status + summary.errors.connect + summary.errors.read
    + summary.errors.write + summary.errors.timeout
  io.write(string.format(
    '\nRESULT {"requests": %d, "seconds": %.3f, "p50_ms": %.1f, "p95_ms": %.1f, '
    .. '"p99_ms": %.1f, "errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(95) / 1000, latency:percentile(99) / 1000, bad))
end
"""


def _wallet_holder(department) -> object:
    """A holder with exactly ``N_WALLET`` licences in the wallet (non-exclusive rows written by
    SQL like the filler, of the person types of the catalogue in turn)."""
    from django.contrib.auth import get_user_model

    from apps.identity.pii import encrypt
    from apps.licences.models import Licence, LicenceType
    from tests.identity.factories import verified_user

    user = get_user_model().objects.filter(username="bench-wallet-holder").first()
    if user is None:
        user = verified_user("卡包基准", user__username="bench-wallet-holder")
    have = Licence.objects.filter(holder_user=user).count()
    if have >= N_WALLET:
        return user
    types = list(LicenceType.objects.filter(holder_kind="person").order_by("code"))
    cipher = encrypt(user.person.id_number)
    with connection.cursor() as cursor:
        for i in range(have, N_WALLET):
            kind = types[i % len(types)]
            face = {f["key"]: "卡包基准" for f in kind.face_fields if f.get("required")}
            cursor.execute(
                """
                INSERT INTO licences_licence (licence_type_id, identifier, serial, version,
                    number, name, issuer_id, issuer_code, jurisdiction_code, holder_kind,
                    holder_code_type, holder_name, holder_code, holder_code_index, holder_user_id,
                    issued_on, valid_from, valid_until, face_data, status, status_changed_at,
                    exclusive, created_at, updated_at)
                VALUES (%s, %s, %s, 1, %s, %s, %s, %s, '360100', 'person', %s, '卡包基准', %s,
                    md5(%s), %s, DATE '2024-01-01', DATE '2024-01-01', DATE '2034-01-01', %s,
                    'valid', now(), false, now(), now())
                """,
                [
                    kind.pk,
                    f"1.2.156.3005.2.WALLET.{i}",
                    f"WALLET{i}",
                    f"WALLET{i}",
                    kind.name,
                    department.pk,
                    department.uscc,
                    kind.holder_code_type,
                    cipher,
                    f"wallet{i}",
                    user.pk,
                    json.dumps(face, ensure_ascii=False),
                ],
            )
    return user


def _session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"


def _multipart(content: bytes, workdir: Path) -> tuple[Path, str]:
    boundary = "benchboundary7MA4YWxkTrZu0gW"
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="l.pdf"\r\n'
            "Content-Type: application/pdf\r\n\r\n"
        ).encode()
        + content
        + f"\r\n--{boundary}--\r\n".encode()
    )
    path = workdir / "upload.body"
    path.write_bytes(body)
    return path, f"multipart/form-data; boundary={boundary}"


def _check(url: str, extra: dict[str, str], expect: str, times: int = 1) -> None:
    """One request as wrk will send it: 200 and ``expect`` in the body (a redirect to the login
    page or a refusal would otherwise be measured as a fast answer)."""
    headers = {}
    if "BENCH_COOKIE" in extra:
        headers["Cookie"] = extra["BENCH_COOKIE"]
    if "BENCH_CONTENT_TYPE" in extra:
        headers["Content-Type"] = extra["BENCH_CONTENT_TYPE"]
    data = Path(extra["BENCH_BODY_FILE"]).read_bytes() if "BENCH_BODY_FILE" in extra else None
    request = urllib.request.Request(url, data=data, headers=headers)
    opener = urllib.request.build_opener(_NoRedirect)
    with opener.open(request, timeout=30) as response:
        body = response.read().decode("utf-8")
        if response.status != 200 or body.count(expect) < times:
            raise RuntimeError(f"{url}: {response.status}, {expect!r} not {times}x in the answer")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


def _wrk(url: str, script: Path, connections: int, env: dict[str, str]) -> dict:
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", f"-d{SECONDS}s", "-s", str(script), url],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RuntimeError(f"wrk gave no result for {url}: {out[-500:]}")
    data = json.loads(line[len("RESULT ") :])
    data["req_per_s"] = round(data["requests"] / data["seconds"], 1)
    return data


def licences_http() -> list[dict]:
    from apps.licences.models import Licence
    from apps.licences.services import create_verification_token, ensure_licence_file

    _ensure_wrk()
    department = _setup()
    _fill(department, N_FILL)
    licence = _holder_licence(department)
    content = bytes(ensure_licence_file(licence_id=licence.pk).content)
    holder = _wallet_holder(department)
    cookie = _session_cookie(holder)
    total = Licence.objects.count()
    results: list[dict] = []
    with tempfile.TemporaryDirectory(prefix="bench-licences-") as tmp:
        workdir = Path(tmp)
        script = workdir / "bench.lua"
        script.write_text(_LUA, encoding="utf-8")
        body, content_type = _multipart(content, workdir)
        env = _gov_env(workdir / "static") | {
            "LICENCE_VERIFY_PAGE_RATE": str(10**9),
            "LICENCE_VERIFY_API_RATE": "1000000000/s",
        }
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
            cwd=BASE_DIR,
            env=env,
            check=True,
        )
        port = _free_port()
        servers = _Servers(workdir)
        gunicorn = str(Path(sys.executable).with_name("gunicorn"))
        try:
            servers.start(
                [gunicorn, "-w", WORKERS, "-b", f"127.0.0.1:{port}", "govportal.wsgi:application"],
                cwd=BASE_DIR,
                env=env,
                log="govportal.log",
            )
            base = f"http://127.0.0.1:{port}"
            _wait_http(f"{base}/healthz")
            for connections in (1, 8):
                # A fresh token per pass: verification tokens live ten minutes.
                token, _row = create_verification_token(licence_id=licence.pk, user=None)
                runs = [
                    ("verify_token_page", f"{base}/licences/verify/?token={token}", {}, "有效"),
                    (
                        "verify_token_api",
                        f"{base}/api/v1/licences/verify/?token={token}",
                        {},
                        '"valid":true',
                    ),
                    (
                        "verify_file_api",
                        f"{base}/api/v1/licences/verify/",
                        {
                            "BENCH_METHOD": "POST",
                            "BENCH_BODY_FILE": str(body),
                            "BENCH_CONTENT_TYPE": content_type,
                        },
                        '"valid":true',
                    ),
                    ("wallet", f"{base}/licences/", {"BENCH_COOKIE": cookie}, "licence-card__name"),
                ]
                for name, url, extra, expect in runs:
                    _check(url, extra, expect, N_WALLET if name == "wallet" else 1)
                    # warm both workers (the font, the seal keys, templates)
                    subprocess.run(
                        ["wrk", "-t1", "-c2", "-d2s", "-s", str(script), url],
                        env={**os.environ, **extra},
                        capture_output=True,
                        check=False,
                    )
                    figures = _wrk(url, script, connections, extra)
                    results.append(
                        {
                            "endpoint": name,
                            "connections": connections,
                            "licences": total,
                            "wallet_licences": N_WALLET if name == "wallet" else None,
                            "load_average": round(os.getloadavg()[0], 1),
                            **figures,
                        }
                    )
                    time.sleep(1)
        finally:
            servers.stop()
    return results
