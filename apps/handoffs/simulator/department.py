"""The simulated system: push receiver or pull poller, sharing the record, the faults and
the answers."""

from __future__ import annotations

import json
import logging
import random
import signal
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from apps.handoffs.simulator import national, national_licences
from apps.handoffs.simulator.config import MAX_BODY_BYTES, SimulatorConfig
from apps.handoffs.simulator.portal import AnswerScheduler, PortalClient
from apps.handoffs.simulator.record import Recorder
from apps.handoffs.verify import SignatureError, Verifier

logger = logging.getLogger("department_simulator")


class _Server(ThreadingHTTPServer):
    # A burst of pushes from several worker processes must not be refused at the socket.
    request_queue_size = 128
    daemon_threads = True


class Department:
    """Push receiver or pull poller, sharing the record, the faults and the answers."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.recorder = Recorder(config.record)
        self.client = PortalClient(config) if config.portal_url else None
        self.answers = (
            AnswerScheduler(config, self.client, self.recorder)
            if self.client is not None and config.answer != "none"
            else None
        )
        self.verifier = (
            Verifier(config.keys, window_seconds=config.replay_window) if config.keys else None
        )
        # The national system this receiver plays, if any: its field check and its bodies.
        self.national = (
            national
            if config.national_reviews
            else national_licences
            if config.national_licences
            else None
        )
        self.started = time.monotonic()
        self._random = random.Random(config.seed)  # noqa: S311 - fault injection, not crypto
        self._random_lock = threading.Lock()
        self.stop_event = threading.Event()
        self.server: ThreadingHTTPServer | None = None

    def _chance(self, rate: float) -> bool:
        if rate <= 0:
            return False
        with self._random_lock:
            return self._random.random() < rate

    def _accept(self, envelope: dict[str, Any]) -> bool:
        """Store the handoff (before acknowledging it) and schedule the answers once."""
        stored = self.recorder.store(envelope)
        if stored and self.config.national_reviews:
            self.recorder.store_national(envelope)
        if stored and self.config.national_licences:
            self.recorder.store_licence_status(envelope)
        if stored and self.answers is not None:
            self.answers.schedule(envelope)
        return stored

    # push ---------------------------------------------------------------------------------

    def handle_push(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, Any]]:
        """What the receiver answers to one POST: ``(status, json body)``."""
        config = self.config
        in_outage = time.monotonic() - self.started < config.fail_for_seconds
        if in_outage or self._chance(config.fail_rate):
            self.recorder.log_request("fault_500", 500)
            return 500, {"error": "simulated failure"}
        assert self.verifier is not None
        try:
            key_id = self.verifier.verify(headers, body)
        except SignatureError as exc:
            self.recorder.log_request(f"refused_{exc.code}", 401)
            logger.warning("simulator.signature_refused", extra={"code": exc.code})
            return 401, {"error": exc.code}
        try:
            envelope = json.loads(body)
            if not isinstance(envelope, dict) or not {"idempotency_key", "handoff_id"} <= set(
                envelope
            ):
                raise ValueError("not an envelope")
        except ValueError:
            self.recorder.log_request("bad_body", 400)
            return 400, {"error": "bad envelope"}
        if self.national is not None:
            errors = self.national.check(envelope)
            if errors:
                # Bad data: refused for good (the portal dead-letters a 4xx).
                self.recorder.log_request("refused_fields", 400, envelope)
                logger.warning(
                    "simulator.national_refused",
                    extra={"handoff_id": envelope["handoff_id"], "errors": errors},
                )
                return 400, self.national.refusal(errors)
        if config.status is not None and self._chance(config.status_rate):
            self.recorder.log_request(f"fault_{config.status}", config.status, envelope)
            return config.status, {"error": "simulated refusal"}
        if self._chance(config.timeout_rate):
            # A slow back office: the portal gives up waiting, but the work is done anyway, so
            # the retry that follows must not be processed twice.
            self.recorder.log_request("fault_timeout", None, envelope)
            time.sleep(config.timeout_sleep)
        stored = self._accept(envelope)
        self.recorder.log_request("stored" if stored else "duplicate", 200, envelope)
        if config.latency:
            # Work done, acknowledgement not yet sent: the window in which a crash of the
            # portal's worker leaves a handoff stored here but unconfirmed there.
            time.sleep(config.latency)
        logger.info(
            "simulator.received",
            extra={
                "handoff_id": envelope["handoff_id"],
                "key_id": key_id,
                "duplicate": not stored,
            },
        )
        if self.national is not None:
            return 200, self.national.reply(envelope, duplicate=not stored)
        return 200, {"status": "received", "duplicate": not stored}

    def make_server(self) -> ThreadingHTTPServer:
        department = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            server_version = "DepartmentSimulator/1"

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    # The portal timed out and hung up: expected with --timeout-rate.
                    self.close_connection = True

            def do_GET(self) -> None:
                self._reply(200, {"mode": department.config.mode, **department.stats()})

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                if length > MAX_BODY_BYTES:
                    self._reply(413, {"error": "too large"})
                    return
                body = self.rfile.read(length)
                status, payload = department.handle_push(dict(self.headers.items()), body)
                self._reply(status, payload)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = _Server((self.config.host, self.config.port), Handler)
        self.server = server
        return server

    # pull ---------------------------------------------------------------------------------

    def poll_once(self, after: int = 0) -> tuple[int, int]:
        """One inbox page: store, acknowledge, schedule answers. Returns ``(items, next_after)``."""
        assert self.client is not None
        response = self.client.request(
            "GET",
            self.client.api("/api/v1/handoffs/inbox/"),
            params={"after": after, "limit": self.config.poll_limit},
        )
        response.raise_for_status()
        page = response.json()
        to_ack: list[tuple[dict[str, Any], bool]] = []
        for envelope in page["results"]:
            if self._chance(self.config.fail_rate):
                # Crash before the ack: the handoff stays in the inbox and comes back.
                self.recorder.log_request("fault_no_ack", None, envelope)
                continue
            # Stored before it is acknowledged: a crash in between means a duplicate, not a loss.
            to_ack.append((envelope, self._accept(envelope)))
        if self.config.ack == "batch" and to_ack:
            ack = self.client.request(
                "POST",
                self.client.api("/api/v1/handoffs/inbox/ack/"),
                json={"handoff_ids": [envelope["handoff_id"] for envelope, _ in to_ack]},
            )
            statuses = [ack.status_code] * len(to_ack)
        else:
            statuses = [
                self.client.request(
                    "POST",
                    self.client.api(f"/api/v1/handoffs/inbox/{envelope['handoff_id']}/ack/"),
                ).status_code
                for envelope, _ in to_ack
            ]
        for (envelope, stored), status in zip(to_ack, statuses, strict=True):
            self.recorder.log_request("stored" if stored else "duplicate", status, envelope)
        return len(page["results"]), int(page["next_after"])

    def run_poller(self) -> None:
        after = 0
        while not self.stop_event.is_set():
            try:
                items, after = self.poll_once(after)
            except requests.RequestException as exc:
                logger.warning("simulator.poll_error", extra={"error": str(exc)[:200]})
                items, after = 0, 0
            if items < self.config.poll_limit:
                # End of the inbox: start from the top again after a pause.
                after = 0
                self.stop_event.wait(self.config.poll_interval)

    # lifecycle ----------------------------------------------------------------------------

    def stats(self) -> dict[str, int]:
        counts = self.recorder.counts()
        counts["answers_pending"] = self.answers.pending() if self.answers else 0
        return counts

    def serve(self) -> None:
        """Run until SIGTERM / SIGINT (push: the HTTP server; pull: the poller)."""
        if self.config.mode == "push":
            server = self.make_server()
            host, port = server.server_address[:2]
            logger.info("simulator.ready", extra={"url": f"http://{host}:{port}/", "mode": "push"})
            self._on_signals(server.shutdown)
            server.serve_forever(poll_interval=0.2)
            server.server_close()
        else:
            logger.info("simulator.ready", extra={"mode": "pull"})
            self._on_signals(self.stop_event.set)
            self.run_poller()
        self.close()

    def _on_signals(self, stop: Callable[[], None]) -> None:
        def handler(signum: int, frame: Any) -> None:
            self.stop_event.set()
            threading.Thread(target=stop, daemon=True).start()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def close(self) -> None:
        if self.answers is not None:
            self.answers.stop()
        logger.info("simulator.stopped", extra=self.recorder.counts())
        self.recorder.close()
