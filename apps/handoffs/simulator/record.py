"""The SQLite record file: everything the simulated system received and answered."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from typing import Any


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
    CREATE TABLE IF NOT EXISTS national (
        idempotency_key TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        evaluate_id TEXT NOT NULL,
        assess_number TEXT,
        satisfaction TEXT,
        channel TEXT,
        app_status TEXT,
        payload TEXT NOT NULL,
        received_at REAL NOT NULL
    );
    CREATE TABLE IF NOT EXISTS licence_status (
        idempotency_key TEXT PRIMARY KEY,
        event TEXT NOT NULL,
        identifier TEXT NOT NULL,
        status TEXT NOT NULL,
        superseded_by TEXT,
        occurred_at TEXT,
        payload TEXT NOT NULL,
        received_at REAL NOT NULL
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

    def sequence(self, idempotency_key: str) -> int:
        """The handoff's row number in ``received`` (1, 2, 3, … in the order stored)."""
        with self._lock:
            row = self._db.execute(
                "SELECT rowid FROM received WHERE idempotency_key = ?", (idempotency_key,)
            ).fetchone()
        return int(row[0]) if row else 0

    def store_national(self, envelope: dict[str, Any]) -> None:
        """The national system's own record of a rating or result (once per key)."""
        payload = envelope["payload"]
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO national VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    envelope["idempotency_key"],
                    envelope["event"],
                    payload.get("evaluateId", ""),
                    payload.get("assessNumber"),
                    payload.get("satisfaction"),
                    payload.get("pf"),
                    payload.get("appStatus"),
                    json.dumps(payload, ensure_ascii=False, sort_keys=True),
                    time.time(),
                ),
            )

    def store_licence_status(self, envelope: dict[str, Any]) -> None:
        """The national sharing platform's record of a licence status change (once per key)."""
        payload = envelope["payload"]
        with self._lock:
            self._db.execute(
                "INSERT OR IGNORE INTO licence_status VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    envelope["idempotency_key"],
                    envelope["event"],
                    payload.get("certificate_identifier", ""),
                    payload.get("status", ""),
                    payload.get("superseded_by") or None,
                    payload.get("occurred_at"),
                    json.dumps(payload, ensure_ascii=False, sort_keys=True),
                    time.time(),
                ),
            )

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
