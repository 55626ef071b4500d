"""A fake department back-office system in its own process (``manage.py department_simulator``).

It talks to the portal only over HTTP, as a real department system would:

* **push** mode: a small HTTP receiver. Every POST is verified with ``apps.handoffs.verify`` (the
  documented scheme), its idempotency key is stored in the ``--record`` SQLite file *before* the
  2xx acknowledgement (a key seen before is acknowledged again but not stored twice: effectively
  once), and, after ``--answer-delay`` seconds, a decision is posted back through the answer API
  with an OAuth2 client-credentials token.
* **pull** mode: a poller of ``/api/v1/handoffs/inbox/`` that stores each handoff, acknowledges
  it by id and answers like the receiver.

Fault knobs for tests and benchmarks: ``--fail-rate`` / ``--fail-for-seconds`` (HTTP 500),
``--timeout-rate`` (sleep past the portal's timeout, then process anyway, as a slow system does),
``--status 4xx`` with ``--status-rate`` (refuse). Everything the simulator saw is in the record
file: table ``received`` (one row per idempotency key), ``requests`` (one row per HTTP request
or inbox item, with its outcome) and ``answers``.

The module uses the standard library and ``requests`` only; it does not touch the database.
"""

from __future__ import annotations

import argparse
import heapq
import json
import logging
import random
import signal
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import requests

from apps.handoffs.verify import DEFAULT_WINDOW_SECONDS, SignatureError, Verifier

logger = logging.getLogger("department_simulator")

MAX_BODY_BYTES = 5 * 1024 * 1024
ANSWER_RETRIES = 30


@dataclass
class SimulatorConfig:
    mode: str = "push"
    host: str = "127.0.0.1"
    port: int = 8765
    keys: dict[str, str] = field(default_factory=dict)
    replay_window: int = DEFAULT_WINDOW_SECONDS
    record: str = ":memory:"
    portal_url: str = ""
    token_url: str = ""
    client_id: str = ""
    client_secret: str = ""
    scope: str = "handoffs"
    answer: str = "none"
    answer_delay: float = 0.0
    answer_subject: str = ""
    decision: str = "approved"
    reason: str = ""
    complete: bool = False
    fail_rate: float = 0.0
    fail_for_seconds: float = 0.0
    timeout_rate: float = 0.0
    timeout_sleep: float = 35.0
    latency: float = 0.0
    status: int | None = None
    status_rate: float = 1.0
    poll_interval: float = 1.0
    poll_limit: int = 100
    ack: str = "batch"
    answer_threads: int = 4
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.mode not in ("push", "pull"):
            raise ValueError("mode is push or pull")
        if self.mode == "push" and not self.keys:
            raise ValueError("push mode needs at least one --key KEY_ID=SECRET")
        if (self.mode == "pull" or self.answer != "none") and not (
            self.portal_url and self.client_id and self.client_secret
        ):
            raise ValueError("pull mode and answers need --portal-url, --client-id and a secret")
        if self.status is not None and not 400 <= self.status < 500:
            raise ValueError("--status must be a 4xx code")
        if self.portal_url and not self.token_url:
            self.token_url = self.portal_url.rstrip("/") + "/o/token/"


# --- record file --------------------------------------------------------------------------


class Recorder:
    """The SQLite record of everything the simulated department received and answered.

    Written by one connection under a lock (WAL, so tests and benchmarks can read it while the
    simulator runs).
    """

    SCHEMA = """
    CREATE TABLE IF NOT EXISTS received (
        idempotency_key TEXT PRIMARY KEY,
        handoff_id INTEGER NOT NULL,
        event TEXT,
        subject_type TEXT,
        subject_id TEXT,
        delivery_id TEXT,
        received_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS requests (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        at REAL NOT NULL,
        handoff_id INTEGER,
        idempotency_key TEXT,
        delivery_id TEXT,
        status INTEGER,
        outcome TEXT NOT NULL
    );
    CREATE TABLE IF NOT EXISTS answers (
        answer_key TEXT PRIMARY KEY,
        handoff_id INTEGER NOT NULL,
        kind TEXT NOT NULL,
        status INTEGER,
        tries INTEGER NOT NULL,
        at REAL NOT NULL
    );
    """

    def __init__(self, path: str) -> None:
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._lock = threading.Lock()
        with self._lock:
            if path != ":memory:":
                self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(self.SCHEMA)

    def store(self, envelope: dict[str, Any]) -> bool:
        """Store a handoff by its idempotency key; ``False`` if the key was already stored."""
        subject = envelope.get("subject") or {}
        with self._lock:
            cursor = self._db.execute(
                "INSERT OR IGNORE INTO received VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    envelope["idempotency_key"],
                    envelope["handoff_id"],
                    envelope.get("event"),
                    subject.get("type"),
                    subject.get("id"),
                    envelope.get("delivery_id"),
                    time.time(),
                ),
            )
            return cursor.rowcount == 1

    def log_request(
        self, outcome: str, status: int | None, envelope: dict[str, Any] | None = None
    ) -> None:
        envelope = envelope or {}
        with self._lock:
            self._db.execute(
                "INSERT INTO requests (at, handoff_id, idempotency_key, delivery_id, status,"
                " outcome) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    envelope.get("handoff_id"),
                    envelope.get("idempotency_key"),
                    envelope.get("delivery_id"),
                    status,
                    outcome,
                ),
            )

    def log_answer(
        self, answer_key: str, handoff_id: int, kind: str, status: int | None, tries: int
    ) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO answers VALUES (?, ?, ?, ?, ?, ?)",
                (answer_key, handoff_id, kind, status, tries, time.time()),
            )

    def counts(self) -> dict[str, int]:
        with self._lock:
            received = self._db.execute("SELECT COUNT(*) FROM received").fetchone()[0]
            requests_ = self._db.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
            answers = self._db.execute("SELECT COUNT(*) FROM answers").fetchone()[0]
        return {"received": received, "requests": requests_, "answers": answers}

    def close(self) -> None:
        with self._lock:
            self._db.close()


# --- the portal's API, as a client --------------------------------------------------------


class PortalClient:
    """OAuth2 client credentials + the handoffs API (inbox, ack, answers)."""

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self._session = requests.Session()
        self._token = ""
        self._token_expires = 0.0
        self._lock = threading.Lock()

    def _fetch_token(self) -> str:
        with self._lock:
            if self._token and time.monotonic() < self._token_expires:
                return self._token
            response = self._session.post(
                self.config.token_url,
                data={"grant_type": "client_credentials", "scope": self.config.scope},
                auth=(self.config.client_id, self.config.client_secret),
                timeout=10,
            )
            response.raise_for_status()
            data = response.json()
            self._token = data["access_token"]
            self._token_expires = time.monotonic() + max(int(data.get("expires_in", 60)) - 30, 5)
            return self._token

    def _invalidate(self) -> None:
        with self._lock:
            self._token = ""

    def request(self, method: str, url: str, **kwargs: Any) -> requests.Response:
        for _ in range(2):
            headers = {"Authorization": f"Bearer {self._fetch_token()}"}
            response = self._session.request(method, url, headers=headers, timeout=10, **kwargs)
            if response.status_code != 401:
                return response
            self._invalidate()
        return response

    def api(self, path: str) -> str:
        return self.config.portal_url.rstrip("/") + path


# --- answers, after a delay ---------------------------------------------------------------


class AnswerScheduler:
    """Posts answers (received / decision) back to the portal after ``--answer-delay``.

    A heap of due jobs and a few poster threads; network errors and 5xx are retried with a
    short backoff (the portal may be restarting), 4xx are recorded and dropped.
    """

    def __init__(self, config: SimulatorConfig, client: PortalClient, recorder: Recorder) -> None:
        self.config = config
        self.client = client
        self.recorder = recorder
        self._heap: list[tuple[float, int, dict[str, Any]]] = []
        self._counter = 0
        self._cond = threading.Condition()
        self._stopped = False
        self._threads = [
            threading.Thread(target=self._run, name=f"answer-{i}", daemon=True)
            for i in range(config.answer_threads)
        ]
        for thread in self._threads:
            thread.start()

    def schedule(self, envelope: dict[str, Any]) -> None:
        wanted = self.config.answer_subject
        if wanted and (envelope.get("subject") or {}).get("type") != wanted:
            return  # --answer-subject: answer only handoffs of that subject type
        kinds = {
            "none": [],
            "received": ["received"],
            "decision": ["decision"],
            "both": ["received", "decision"],
        }[self.config.answer]
        now = time.monotonic()
        for kind in kinds:
            delay = 0.0 if (kind == "received" and len(kinds) == 2) else self.config.answer_delay
            self._push(now + delay, {"envelope": envelope, "kind": kind, "tries": 0})

    def _push(self, due: float, job: dict[str, Any]) -> None:
        with self._cond:
            self._counter += 1
            heapq.heappush(self._heap, (due, self._counter, job))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._stopped and (not self._heap or self._heap[0][0] > time.monotonic()):
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._cond.wait(timeout)
                if self._stopped:
                    return
                _, _, job = heapq.heappop(self._heap)
            self._post(job)

    def _post(self, job: dict[str, Any]) -> None:
        envelope, kind = job["envelope"], job["kind"]
        job["tries"] += 1
        handoff_id = envelope["handoff_id"]
        answer_key = f"{envelope['idempotency_key']}:{kind}"[:128]
        data: dict[str, Any] = {}
        if kind == "decision":
            data = {
                "decision": self.config.decision,
                "reason": self.config.reason,
                "complete": self.config.complete,
            }
        url = envelope.get("answer_url") or self.client.api(
            f"/api/v1/handoffs/{handoff_id}/answers/"
        )
        status: int | None = None
        try:
            response = self.client.request(
                "POST", url, json={"kind": kind, "idempotency_key": answer_key, "data": data}
            )
            status = response.status_code
        except requests.RequestException as exc:
            logger.warning(
                "simulator.answer_error",
                extra={"handoff_id": handoff_id, "kind": kind, "error": str(exc)[:200]},
            )
        if status is not None and status < 500:
            self.recorder.log_answer(answer_key, handoff_id, kind, status, job["tries"])
            level = logging.INFO if status < 300 else logging.WARNING
            logger.log(
                level,
                "simulator.answered",
                extra={"handoff_id": handoff_id, "kind": kind, "status": status},
            )
            return
        if job["tries"] >= ANSWER_RETRIES:
            self.recorder.log_answer(answer_key, handoff_id, kind, status, job["tries"])
            logger.error("simulator.answer_gave_up", extra={"handoff_id": handoff_id})
            return
        self._push(time.monotonic() + min(0.2 * 2 ** min(job["tries"], 5), 5.0), job)

    def pending(self) -> int:
        with self._cond:
            return len(self._heap)

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()


# --- the simulated department -------------------------------------------------------------


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


# --- command line -------------------------------------------------------------------------


def _key(value: str) -> tuple[str, str]:
    key_id, sep, secret = value.partition("=")
    if not sep or not key_id or not secret:
        raise argparse.ArgumentTypeError("expected KEY_ID=SECRET")
    return key_id, secret


def _rate(value: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise argparse.ArgumentTypeError("a rate is between 0 and 1")
    return rate


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mode", choices=["push", "pull"], default="push")
    parser.add_argument("--host", default="127.0.0.1", help="push: address to listen on")
    parser.add_argument("--port", type=int, default=8765, help="push: port to listen on")
    parser.add_argument(
        "--key",
        type=_key,
        action="append",
        default=[],
        metavar="KEY_ID=SECRET",
        help="a signing key the department holds (repeat during a rotation)",
    )
    parser.add_argument("--replay-window", type=int, default=DEFAULT_WINDOW_SECONDS)
    parser.add_argument("--record", default=":memory:", help="SQLite file recording everything")
    parser.add_argument("--portal-url", default="", help="e.g. http://127.0.0.1:8000")
    parser.add_argument("--token-url", default="", help="default: <portal-url>/o/token/")
    parser.add_argument("--client-id", default="")
    parser.add_argument("--client-secret", default="")
    parser.add_argument("--scope", default="handoffs")
    parser.add_argument(
        "--answer", choices=["none", "received", "decision", "both"], default="none"
    )
    parser.add_argument("--answer-delay", type=float, default=0.0, help="seconds")
    parser.add_argument(
        "--answer-subject",
        default="",
        help="answer only handoffs of this subject type (e.g. cases.case)",
    )
    parser.add_argument("--decision", default="approved")
    parser.add_argument("--reason", default="")
    parser.add_argument("--complete", action="store_true", help="decisions also complete")
    parser.add_argument("--fail-rate", type=_rate, default=0.0, help="share of requests → 500")
    parser.add_argument(
        "--fail-for-seconds", type=float, default=0.0, help="answer 500 to everything at first"
    )
    parser.add_argument("--timeout-rate", type=_rate, default=0.0)
    parser.add_argument(
        "--timeout-sleep", type=float, default=35.0, help="longer than the portal's timeout"
    )
    parser.add_argument(
        "--latency", type=float, default=0.0, help="seconds between storing and answering 2xx"
    )
    parser.add_argument("--status", type=int, default=None, help="answer this 4xx")
    parser.add_argument("--status-rate", type=_rate, default=1.0)
    parser.add_argument("--poll-interval", type=float, default=1.0)
    parser.add_argument("--poll-limit", type=int, default=100)
    parser.add_argument(
        "--ack", choices=["batch", "single"], default="batch", help="pull: one ack per page or id"
    )
    parser.add_argument("--answer-threads", type=int, default=4)
    parser.add_argument("--seed", type=int, default=None)


def config_from_options(options: dict[str, Any]) -> SimulatorConfig:
    names = set(SimulatorConfig.__dataclass_fields__)
    values = {k: v for k, v in options.items() if k in names and k != "keys"}
    return SimulatorConfig(keys=dict(options.get("key") or []), **values)


class _JsonLines(logging.Formatter):
    _STANDARD = set(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}

    def format(self, record: logging.LogRecord) -> str:
        payload = {"time": round(record.created, 3), "level": record.levelname}
        payload["event"] = record.getMessage()
        payload.update({k: v for k, v in record.__dict__.items() if k not in self._STANDARD})
        return json.dumps(payload, ensure_ascii=False, default=str)


def configure_logging() -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(_JsonLines())
    logger.handlers[:] = [handler]
    logger.setLevel(logging.INFO)
    logger.propagate = False


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    options = vars(parser.parse_args(argv))
    configure_logging()
    Department(config_from_options(options)).serve()
    return 0


if __name__ == "__main__":
    sys.exit(main())
