"""The portal's API as a client (OAuth2 client credentials) and the delayed answers."""

from __future__ import annotations

import heapq
import logging
import threading
import time
from typing import Any

import requests

from apps.handoffs.simulator import national, results
from apps.handoffs.simulator.config import ANSWER_RETRIES, SimulatorConfig
from apps.handoffs.simulator.record import Recorder

logger = logging.getLogger("department_simulator")


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
            job: dict[str, Any] = {"envelope": envelope, "kind": kind, "tries": 0}
            if kind == "decision":
                # Rendered once, so every retry posts the same data under the same key.
                job["result"] = self.decision_result(envelope)
            self._push(now + delay, job)

    def decision_result(self, envelope: dict[str, Any]) -> dict[str, str]:
        """The result fields of the decision on this handoff (``--result``, ``--result-for``)."""
        config = self.config
        if not (config.results or config.item_results):
            return {}
        seq = self.recorder.sequence(envelope["idempotency_key"])
        return results.render(config.results, config.item_results, envelope, seq=seq)

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
        if kind == "received" and self.config.national_reviews:
            data = national.receipt(envelope)
        elif kind == "decision":
            data = {
                "decision": self.config.decision,
                "reason": self.config.reason,
                "complete": self.config.complete,
            }
            if job.get("result"):
                data["result"] = job["result"]
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
