"""Handoff fixtures: a stub HTTP receiver in a thread (unit tier, STYLE.md Q7)."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


@dataclass
class StubReceiver:
    """Answers pushes with scripted statuses (``responses``, then ``default``); records them."""

    url: str = ""
    responses: list[int | str] = field(default_factory=list)
    default: int = 200
    requests: list[dict] = field(default_factory=list)
    delay: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)


@pytest.fixture
def stub_receiver() -> Iterator[StubReceiver]:
    stub = StubReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            stub.requests.append({"headers": dict(self.headers), "body": body})
            action = stub.responses.pop(0) if stub.responses else stub.default
            if action == "hang":
                time.sleep(3)
                action = 200
            elif stub.delay:
                time.sleep(stub.delay)
            payload = json.dumps({"status": "ok"}).encode()
            try:
                self.send_response(int(action))
                for name, value in stub.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            except (BrokenPipeError, ConnectionResetError):
                pass

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()


@pytest.fixture
def department_simulator(tmp_path):
    """Start ``manage.py department_simulator`` subprocesses: ``department_simulator(*options)``.

    Each is stopped (SIGTERM) at teardown; its SQLite record stays in ``tmp_path``.
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
