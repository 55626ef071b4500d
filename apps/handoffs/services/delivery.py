"""Delivering a handoff: claim, call, record (STYLE.md T4), backoff, dead letters, and the
beat sweeper that re-enqueues handoffs whose task was lost."""

from __future__ import annotations

import json
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import requests

from django.conf import settings
from django.db import transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.handoffs import signing
from apps.handoffs.constants import AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.models import (
    DepartmentEndpoint,
    Handoff,
    HandoffAttempt,
    SigningKey,
)
from apps.handoffs.services.outbox import _endpoint_for, _schedule

logger = logging.getLogger(__name__)


# A task may arrive a little before ``next_attempt_at`` (countdown rounding, clock reads in
# different processes); treat it as due.
DUE_TOLERANCE = timedelta(seconds=1)
SWEEP_BATCH = 500
# 4xx answers that can heal by themselves (request timeout, rate limited): retried like 5xx.
RETRYABLE_4XX = frozenset({408, 425, 429})

_http = requests.Session()

# --- delivery -----------------------------------------------------------------------------


def compute_backoff(attempt: int, *, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based).

    Exponential (base · 2^(attempt-1)), capped, with "equal jitter": half the step is fixed and
    half random, so retries of a burst spread out but never collapse to zero.
    """
    step = min(
        settings.HANDOFF_RETRY_CAP_SECONDS,
        settings.HANDOFF_RETRY_BASE_SECONDS * (2 ** max(attempt - 1, 0)),
    )
    return step / 2 + (rng or random).uniform(0, step / 2)


def _retry_after_seconds(response_headers: Mapping[str, str]) -> float | None:
    value = response_headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max((moment - timezone.now()).total_seconds(), 0.0)


def build_envelope(
    handoff: Handoff,
    attempt: HandoffAttempt | None = None,
    *,
    replay_window_seconds: int | None = None,
) -> dict[str, Any]:
    """The JSON document pushed to (or pulled by) the department; see docs/handoffs.md.

    A push states the endpoint's replay window inside the signed body, so the receiver's
    verifier applies it (``verify.Verifier``: it can only tighten the receiver's own window).
    """
    envelope = {
        "handoff_id": handoff.pk,
        "idempotency_key": handoff.idempotency_key,
        "delivery_id": str(attempt.delivery_id) if attempt else None,
        "attempt": attempt.number if attempt else None,
        "event": handoff.event,
        "payload_version": handoff.payload_version,
        "subject": {
            "type": handoff.subject_type,
            "id": handoff.subject_id,
            "reference": handoff.subject_reference,
        },
        "source_department": {
            "uscc": handoff.source_department.uscc,
            "name": handoff.source_department.name,
        },
        "target_department": {
            "uscc": handoff.target_department.uscc,
            "name": handoff.target_department.name,
        },
        "created_at": handoff.created_at.isoformat(),
        "answer_url": settings.SITE_URL.rstrip("/")
        + reverse("api:handoffs:answer", kwargs={"handoff_id": handoff.pk}),
        "payload": handoff.payload,
    }
    if replay_window_seconds is not None:
        envelope["replay_window_seconds"] = replay_window_seconds
    return envelope


@dataclass(frozen=True)
class PushRequest:
    url: str
    body: bytes
    headers: dict[str, str]
    timeout: float


@dataclass(frozen=True)
class PushResult:
    status_code: int | None
    error: str
    duration_ms: int
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300

    @property
    def terminal(self) -> bool:
        """A 4xx that will not heal by retrying: dead letter at once (STYLE.md T5)."""
        code = self.status_code
        return code is not None and 400 <= code < 500 and code not in RETRYABLE_4XX


def _push_request(
    handoff: Handoff, attempt: HandoffAttempt, endpoint: DepartmentEndpoint, keys: list[SigningKey]
) -> PushRequest:
    envelope = build_envelope(
        handoff, attempt, replay_window_seconds=endpoint.replay_window_seconds
    )
    body = json.dumps(envelope, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode(
        "utf-8"
    )
    timestamp = int(time.time())
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": "govportal-handoffs/1",
        signing.TIMESTAMP_HEADER: str(timestamp),
        signing.KEY_ID_HEADER: keys[0].key_id,
        signing.SIGNATURE_HEADER: signing.signature_header(
            [(key.key_id, key.secret) for key in keys], timestamp, body
        ),
        signing.HANDOFF_ID_HEADER: str(handoff.pk),
        signing.IDEMPOTENCY_HEADER: handoff.idempotency_key,
        signing.DELIVERY_ID_HEADER: str(attempt.delivery_id),
    }
    return PushRequest(
        url=endpoint.push_url, body=body, headers=headers, timeout=float(endpoint.timeout_seconds)
    )


def _post_rollback_unsafe(request: PushRequest) -> PushResult:
    """The one network call: explicit connect and read timeouts, never inside a transaction."""
    started = time.perf_counter()
    try:
        response = _http.post(
            request.url,
            data=request.body,
            headers=request.headers,
            timeout=(
                min(settings.HANDOFF_CONNECT_TIMEOUT_SECONDS, request.timeout),
                request.timeout,
            ),
            allow_redirects=False,
        )
    except requests.Timeout:
        error = f"timeout after {request.timeout:g}s"
        return PushResult(None, error, round((time.perf_counter() - started) * 1000))
    except requests.RequestException as exc:
        error = f"{exc.__class__.__name__}: {str(exc)[:300]}"
        return PushResult(None, error, round((time.perf_counter() - started) * 1000))
    duration = round((time.perf_counter() - started) * 1000)
    error = "" if 200 <= response.status_code < 300 else f"HTTP {response.status_code}: "
    if error:
        error += response.text[:300]
    return PushResult(response.status_code, error, duration, _retry_after_seconds(response.headers))


@transaction.atomic(durable=True)
def _claim(
    handoff_id: int,
) -> tuple[str, PushRequest | None, int | None]:
    """Claim a due pending row (first transaction of claim-call-record)."""
    now = timezone.now()
    handoff = (
        Handoff.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("source_department", "target_department")
        .defer("payload")  # decrypted only for a push (loaded when the envelope is built)
        .filter(pk=handoff_id)
        .first()
    )
    if handoff is None:
        return "busy_or_missing", None, None
    if handoff.state != HandoffState.PENDING:
        return f"not_pending:{handoff.state}", None, None
    if handoff.next_attempt_at and handoff.next_attempt_at > now + DUE_TOLERANCE:
        return "not_due", None, None
    endpoint = _endpoint_for(handoff.target_department_id)
    mode = endpoint.mode if endpoint is not None else DeliveryMode.INTERNAL
    number = (handoff.attempt_log.aggregate(n=Max("number"))["n"] or 0) + 1
    attempt = HandoffAttempt.objects.create(handoff=handoff, number=number, mode=mode)
    handoff.attempts += 1
    handoff.mode = mode
    handoff.current_attempt = attempt
    handoff.claimed_at = now
    # Every attempt is logged with the handoff id when it starts (and again with its outcome),
    # so one grep follows a handoff across web, worker and sweeper processes.
    logger.info(
        "handoff.attempt_started",
        extra={
            "handoff_id": handoff.pk,
            "attempt": number,
            "mode": str(mode),
            "target": handoff.target_department_id,
            "delivery_id": str(attempt.delivery_id),
        },
    )
    if mode != DeliveryMode.PUSH:
        # Pull and internal: the handoff is now in the department's inbox / office queue.
        attempt.outcome = AttemptOutcome.DELIVERED
        attempt.finished_at = now
        attempt.duration_ms = 0
        attempt.save(update_fields=["outcome", "finished_at", "duration_ms", "updated_at"])
        handoff.state = HandoffState.DELIVERED
        handoff.delivered_at = now
        handoff.next_attempt_at = None
        handoff.save()
        logger.info(
            "handoff.delivered_to_queue",
            extra={"handoff_id": handoff.pk, "attempt": number, "mode": str(mode)},
        )
        return "delivered", None, None
    assert endpoint is not None
    keys = list(SigningKey.objects.filter(endpoint=endpoint, is_active=True).order_by("-pk"))
    if not keys:
        attempt.outcome = AttemptOutcome.FAILED
        attempt.error = "no active signing key"
        attempt.finished_at = now
        attempt.save()
        _dead_letter(handoff, error=_("推送方式未配置有效签名密钥"), now=now)
        return "dead", None, None
    handoff.state = HandoffState.SENDING
    handoff.save()
    return "claimed", _push_request(handoff, attempt, endpoint, keys), attempt.pk


def _dead_letter(handoff: Handoff, *, error: str, now: Any) -> None:
    handoff.state = HandoffState.DEAD
    handoff.dead_at = now
    handoff.last_error = error
    handoff.next_attempt_at = None
    handoff.save()
    record_audit_event(
        actor=None,
        action="handoffs.dead_lettered",
        obj=handoff,
        data={"attempts": handoff.attempts, "error": error[:200]},
    )
    logger.error(
        "handoff.dead_lettered",
        extra={"handoff_id": handoff.pk, "attempts": handoff.attempts, "error": error[:200]},
    )


@transaction.atomic(durable=True)
def _record(handoff_id: int, attempt_id: int, result: PushResult) -> str:
    """Record the outcome of a push (third step of claim-call-record)."""
    now = timezone.now()
    handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
    attempt = HandoffAttempt.objects.select_for_update().get(pk=attempt_id)
    is_current = handoff.state == HandoffState.SENDING and handoff.current_attempt_id == attempt.pk
    attempt.status_code = result.status_code
    attempt.error = result.error
    attempt.duration_ms = result.duration_ms
    attempt.finished_at = now
    log_extra = {
        "handoff_id": handoff.pk,
        "attempt": attempt.number,
        "status_code": result.status_code,
        "duration_ms": result.duration_ms,
    }
    if result.ok:
        attempt.outcome = AttemptOutcome.ACKNOWLEDGED
        attempt.save()
        if handoff.state in (HandoffState.PENDING, HandoffState.SENDING, HandoffState.DEAD):
            # Even a result the sweeper had given up on counts: the receiver has it.
            handoff.state = HandoffState.ACKNOWLEDGED
            handoff.acknowledged_at = now
            handoff.delivered_at = handoff.delivered_at or now
            handoff.next_attempt_at = None
            handoff.last_error = ""
            handoff.save()
        logger.info("handoff.acknowledged", extra=log_extra)
        return "acknowledged"
    attempt.outcome = AttemptOutcome.FAILED if result.terminal else AttemptOutcome.RETRY
    attempt.save()
    if not is_current:
        # The sweeper declared this attempt lost and moved on; its late result changes nothing.
        logger.info("handoff.stale_result", extra=log_extra)
        return "stale"
    if result.terminal or handoff.attempts >= handoff.max_attempts:
        _dead_letter(handoff, error=result.error, now=now)
        return "dead"
    delay = compute_backoff(handoff.attempts)
    if result.retry_after is not None:
        delay = min(max(delay, result.retry_after), settings.HANDOFF_RETRY_CAP_SECONDS)
    handoff.state = HandoffState.PENDING
    handoff.last_error = result.error
    handoff.next_attempt_at = now + timedelta(seconds=delay)
    handoff.enqueued_at = now
    handoff.save()
    _schedule(handoff.pk, countdown=delay)
    logger.warning("handoff.retry_scheduled", extra={**log_extra, "delay_s": round(delay, 2)})
    return "retry"


def deliver_handoff(*, handoff_id: int) -> str:
    """Deliver one handoff if it is pending and due; returns what happened (for logs/tests).

    Idempotent: a duplicate task (sweeper re-enqueue, broker redelivery) finds the row locked,
    not pending or not yet due and returns without doing anything.
    """
    outcome, request, attempt_id = _claim(handoff_id)
    if request is None:
        return outcome
    assert attempt_id is not None
    return _record(handoff_id, attempt_id, _post_rollback_unsafe(request))


# --- sweeper ------------------------------------------------------------------------------


@transaction.atomic(durable=True)
def sweep_handoffs() -> dict[str, int]:
    """Re-enqueue handoffs whose task was lost (worker killed, Redis restarted).

    * ``sending`` for longer than ``HANDOFF_SENDING_STALE_SECONDS`` (longer than any push can
      take): the attempt is marked lost, the row goes back to pending (or dead letter when the
      attempts are used up) and is enqueued again.
    * ``pending`` and overdue by ``HANDOFF_SWEEP_GRACE_SECONDS`` without having been enqueued
      within that time: enqueued again.

    Rows locked by a running delivery are skipped (``skip_locked``). Idempotent.
    """
    now = timezone.now()
    stale_before = now - timedelta(seconds=settings.HANDOFF_SENDING_STALE_SECONDS)
    grace_before = now - timedelta(seconds=settings.HANDOFF_SWEEP_GRACE_SECONDS)
    stuck_sending = list(
        Handoff.objects.select_for_update(skip_locked=True)
        .defer("payload")
        .filter(state=HandoffState.SENDING, claimed_at__lt=stale_before)
        .order_by("pk")[:SWEEP_BATCH]
    )
    requeued: list[int] = []
    dead: list[int] = []
    for handoff in stuck_sending:
        HandoffAttempt.objects.filter(
            pk=handoff.current_attempt_id, outcome=AttemptOutcome.IN_PROGRESS
        ).update(
            outcome=AttemptOutcome.LOST,
            finished_at=now,
            error="no result recorded (worker lost or timed out)",
            updated_at=now,
        )
        if handoff.attempts >= handoff.max_attempts:
            _dead_letter(handoff, error=_("投递中断且已达最大投递次数"), now=now)
            dead.append(handoff.pk)
            continue
        handoff.state = HandoffState.PENDING
        handoff.next_attempt_at = now
        handoff.enqueued_at = now
        handoff.last_error = "attempt lost (worker or broker failure)"
        handoff.save()
        _schedule(handoff.pk)
        requeued.append(handoff.pk)
    overdue = list(
        Handoff.objects.select_for_update(skip_locked=True)
        .filter(state=HandoffState.PENDING, next_attempt_at__lt=grace_before)
        .filter(Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=grace_before))
        .order_by("pk")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    )
    if overdue:
        Handoff.objects.filter(pk__in=overdue).update(enqueued_at=now, updated_at=now)
        for pk in overdue:
            _schedule(pk)
    counts = {
        "stuck_sending": len(stuck_sending),
        "requeued_sending": len(requeued),
        "dead": len(dead),
        "requeued_pending": len(overdue),
    }
    if stuck_sending or overdue:
        # The ids (at most SWEEP_BATCH each) so an operator can follow each recovered handoff.
        logger.warning(
            "handoff.sweep",
            extra={
                **counts,
                "requeued_sending_ids": requeued,
                "requeued_pending_ids": overdue,
                "dead_ids": dead,
            },
        )
    return counts
