"""Handoff fixtures: a stub HTTP receiver in a thread (unit tier, STYLE.md Q7), and the national
systems the department simulator plays (``--national-reviews``, ``--national-licences``).

``department_simulator`` itself is in tests/conftest.py (the bundle journey uses it too)."""

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
def national(settings):
    """The national 好差评 system: the department every rating is pushed to."""
    from tests.core.factories import DepartmentFactory

    target = DepartmentFactory(name="国家政务服务平台好差评系统")
    settings.REVIEWS_NATIONAL_TARGET_USCC = target.uscc
    return target


@pytest.fixture
def platform():
    """The national e-licence sharing platform: a department subscribed to every licence type."""
    from apps.licences.services import subscribe_status_changes
    from tests.core.factories import DepartmentFactory

    target = DepartmentFactory(name="全国一体化政务服务平台电子证照共享服务系统")
    subscribe_status_changes(department=target, licence_types=[])
    return target
