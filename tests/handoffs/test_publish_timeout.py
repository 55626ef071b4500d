"""A connected but unresponsive broker cannot hang the publish after commit (socket timeout)."""

from __future__ import annotations

import logging
import socket
import threading
import time

import pytest

from apps.handoffs.services import outbox
from govportal.celery import app as celery_app
from tests.handoffs.test_faults import publishing_to

pytestmark = pytest.mark.slow


@pytest.fixture
def silent_broker():
    """A TCP server that accepts connections and never answers (a hung Redis)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"redis://127.0.0.1:{server.getsockname()[1]}/0"
    stop.set()
    thread.join(timeout=2)
    for conn in held:
        conn.close()
    server.close()


def test_publish_to_a_hung_broker_gives_up_and_leaves_the_row_to_the_sweeper(
    silent_broker, caplog
) -> None:
    assert celery_app.conf.broker_transport_options["socket_timeout"] == 5
    previous = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = False
    try:
        with publishing_to(silent_broker), caplog.at_level(logging.WARNING):
            started = time.monotonic()
            outbox._publish(424242)
            elapsed = time.monotonic() - started
    finally:
        celery_app.conf.task_always_eager = previous
    # bounded by the socket timeout (two tries of 5 s each, plus slack), not hanging forever,
    # and logged for the operator; the handoff row stays pending for the sweeper
    assert elapsed < 30
    assert any(r.getMessage() == "handoff.publish_failed" for r in caplog.records)
