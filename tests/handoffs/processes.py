"""Real processes for handoff tests: the department simulator and a private redis-server.

Both run as subprocesses on loopback, exactly as in production; tests talk to them over HTTP
(the simulator) or the Redis protocol, and read the simulator's SQLite record file.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import redis
import requests

ROOT = Path(__file__).resolve().parent.parent.parent
LOG_DIR = ROOT / "var" / "test-logs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SimulatorProcess:
    """``manage.py department_simulator`` as a subprocess; ``args`` are its options."""

    def __init__(self, args: Sequence[str], *, directory: Path, env: dict | None = None) -> None:
        self.args = list(args)
        self.port = free_port()
        tag = uuid.uuid4().hex[:8]
        self.record = directory / f"simulator-{tag}.sqlite3"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"simulator-{tag}.log"
        self.env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        """The push URL to configure on the department endpoint."""
        return f"{self.base_url}/hook"

    def start(self, *, timeout: float = 60.0) -> SimulatorProcess:
        command = [
            sys.executable,
            "manage.py",
            "department_simulator",
            "--port",
            str(self.port),
            "--record",
            str(self.record),
            *self.args,
        ]
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"simulator exited: {self.log()[-2000:]}")
            if "simulator.ready" in self.log():
                if "--mode" in self.args and "pull" in self.args:
                    return self
                try:
                    requests.get(self.base_url, timeout=1)
                    return self
                except requests.RequestException:
                    pass
            time.sleep(0.1)
        raise RuntimeError(f"simulator not ready after {timeout}s: {self.log()[-2000:]}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    # the record file -----------------------------------------------------------------------

    def query(self, sql: str, params: Sequence[object] = ()) -> list[tuple]:
        if not self.record.exists():
            return []
        db = sqlite3.connect(f"file:{self.record}?mode=ro", uri=True, timeout=10)
        try:
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def received_keys(self) -> list[str]:
        return [row[0] for row in self.query("SELECT idempotency_key FROM received")]

    def received_count(self) -> int:
        return self.query("SELECT COUNT(*) FROM received")[0][0] if self.record.exists() else 0

    def outcomes(self) -> dict[str, int]:
        rows = self.query("SELECT outcome, COUNT(*) FROM requests GROUP BY outcome")
        return dict(rows)

    def answers(self) -> list[tuple]:
        return self.query("SELECT answer_key, handoff_id, kind, status FROM answers")


class PrivateRedis:
    """A redis-server of the test's own on another port, so it can be restarted freely.

    ``--save ""`` and no AOF: a restart loses every queued message, the worst case.
    """

    def __init__(self, port: int | None = None) -> None:
        self.port = port or free_port()
        self.binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        LOG_DIR.mkdir(parents=True, exist_ok=True)
        self.log_path = LOG_DIR / f"redis-{self.port}.log"
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, *, timeout: float = 10.0) -> None:
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--logfile",
                str(self.log_path),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                client.ping()
                return
            except redis.RedisError:
                time.sleep(0.05)
            finally:
                client.close()
        raise RuntimeError(f"redis-server on {self.port} did not start")

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def restart(self, *, down_for: float = 1.0) -> None:
        self.kill()
        time.sleep(down_for)
        self.start()
