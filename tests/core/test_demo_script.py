"""``make demo`` (scripts/demo.sh) as a person trying it meets it: a short summary and nothing
else on the console while pages are served — no JSON log lines below warning, no SMS but the
verification codes the person must type, one line per warning — served by gunicorn, a fresh
/healthz with no stale handoff, and Ctrl-C stopping every process with exit status 0.

Runs the real script on a SQLite database and log directory of its own (minutes: marked
slow)."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from http.cookiejar import CookieJar
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _console(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8", errors="replace").splitlines()


def _wait_for(path: Path, text: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(1)
    raise AssertionError(f"{text!r} not printed within {seconds} s:\n{path.read_text()}")


def _ask_for_a_registration_code(base: str, phone: str) -> None:
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
    page = opener.open(f"{base}/accounts/register/", timeout=30).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urllib.parse.urlencode(
        {"csrfmiddlewaretoken": token, "action": "send_code", "phone": phone}
    ).encode()
    request = urllib.request.Request(
        f"{base}/accounts/register/", data=body, headers={"Referer": f"{base}/accounts/register/"}
    )
    assert opener.open(request, timeout=30).status == 200


def test_make_demo_prints_a_short_summary_stays_quiet_and_stops_cleanly(tmp_path) -> None:
    # given: the script with a database, media and log directory of its own, no Redis
    port, sim_port = _free_port(), _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        "PATH": os.environ["PATH"],
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "LANG": "C.UTF-8",
        "BIN": str(ROOT / ".venv" / "bin"),
        "PORT": str(port),
        "SIM_PORT": str(sim_port),
        "DEMO_VAR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
    }
    console = tmp_path / "console.txt"
    with console.open("wb") as out:
        demo = subprocess.Popen(
            ["bash", str(ROOT / "scripts" / "demo.sh")],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        _wait_for(console, "Ctrl-C stops everything.", seconds=600)

        # when: a person uses it — pages, a missing page, a registration code
        with urllib.request.urlopen(f"{base}/healthz", timeout=30) as response:
            health = json.loads(response.read())
            server = response.headers.get("Server", "")
        with urllib.request.urlopen(f"{base}/catalog/", timeout=30) as response:
            assert response.status == 200
        with pytest.raises(urllib.error.HTTPError):
            urllib.request.urlopen(f"{base}/no-such-page/", timeout=30)
        _ask_for_a_registration_code(base, "13900007777")
        time.sleep(2)
        served = _console(console)

        # and then Ctrl-C
        os.kill(demo.pid, signal.SIGINT)
        status = demo.wait(timeout=60)
    finally:
        if demo.poll() is None:
            os.killpg(demo.pid, signal.SIGKILL)
            demo.wait()

    # then: the summary, served like production, a fresh health report
    text = "\n".join(served)
    assert "govportal demo" in text
    assert "demo-citizen" in text
    assert "gunicorn" in server
    assert health["status"] == "ok"
    assert health["details"]["handoffs"]["oldest_unacknowledged_age_seconds"] < 600
    # nothing on the console but the summary, one line for the 404, and the code's SMS
    json_lines = [line for line in served if line.startswith("{")]
    assert [json.loads(line)["level"] for line in json_lines] == ["WARNING"]
    assert not [line for line in served if line.startswith("Not Found")]
    sms = [line for line in served if line.startswith("[SMS")]
    assert len(sms) == 1
    assert "验证码" in sms[0]
    assert len(served) < 30, text
    # every SMS of the load (case notices) went to the SMS log instead
    assert "[SMS" in (tmp_path / "var" / "demo-sms.log").read_text(encoding="utf-8")
    # and Ctrl-C: everything stopped, exit status 0
    assert status == 0
    assert _console(console)[-1] == "demo: stopped"
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
