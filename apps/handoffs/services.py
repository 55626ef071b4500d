"""Every write of the handoff outbox: enqueue, deliver, answer, acknowledge, sweep, retry, re-route.

Delivery is at-least-once end to end (outbox row + on-commit task + beat sweeper + ``acks_late``)
and effectively once at the receiver through the handoff's idempotency key. Delivery follows
"claim, call, record" (STYLE.md T4): a short transaction claims the row and writes an attempt,
the HTTP call happens outside any transaction with explicit timeouts, a second short
transaction records the outcome and schedules the retry.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parsedate_to_datetime
from functools import partial
from typing import Any

import redis
import requests
from kombu.exceptions import OperationalError as KombuOperationalError

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.core.queue import enqueue
from apps.handoffs import signing
from apps.handoffs.constants import AnswerKind, AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.idempotency import key_reused_error
from apps.handoffs.models import (
    PAYLOAD_VERSION,
    DepartmentEndpoint,
    Handoff,
    HandoffAnswer,
    HandoffAttempt,
    SigningKey,
)
from apps.handoffs.permissions import can_administer_handoff, can_configure_endpoint
from apps.handoffs.registry import get_answer_handler, is_target_fixed

logger = logging.getLogger(__name__)

# A task may arrive a little before ``next_attempt_at`` (countdown rounding, clock reads in
# different processes); treat it as due.
DUE_TOLERANCE = timedelta(seconds=1)
SWEEP_BATCH = 500
# 4xx answers that can heal by themselves (request timeout, rate limited): retried like 5xx.
RETRYABLE_4XX = frozenset({408, 425, 429})

_http = requests.Session()


@dataclass(frozen=True)
class SubjectRef:
    """A subject given by label instead of a model instance (tests, non-model subjects)."""

    type: str
    id: str
    reference: str = ""


def _subject_fields(subject: models.Model | SubjectRef) -> tuple[str, str, str]:
    if isinstance(subject, SubjectRef):
        return subject.type.lower(), str(subject.id), subject.reference
    assert isinstance(subject, models.Model)
    assert subject.pk is not None, "save the subject first"
    reference = getattr(subject, "handoff_reference", None) or getattr(subject, "number", None)
    return subject._meta.label_lower, str(subject.pk), str(reference or "")[:64]


def _endpoint_for(department_id: int) -> DepartmentEndpoint | None:
    return (
        DepartmentEndpoint.objects.filter(department_id=department_id, is_active=True)
        .only(
            "pk",
            "mode",
            "push_url",
            "timeout_seconds",
            "max_attempts",
            "replay_window_seconds",
            "department_id",
        )
        .first()
    )


def _max_attempts_for(endpoint: DepartmentEndpoint | None) -> int:
    return endpoint.max_attempts if endpoint is not None else settings.HANDOFF_MAX_ATTEMPTS


def _publish(handoff_id: int, countdown: float | None = None) -> None:
    """Send the delivery task to the broker; a broker outage is left to the sweeper.

    Runs after commit. If Redis is down the row is safe in PostgreSQL, pending, and the beat
    sweeper re-enqueues it once the broker is back, so the failure is logged, not raised.
    """
    try:
        enqueue(
            "handoffs.deliver",
            handoff_id,
            countdown=countdown,
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0.2, "interval_step": 0.2},
        )
    except (KombuOperationalError, redis.RedisError, OSError):
        logger.warning("handoff.publish_failed", extra={"handoff_id": handoff_id}, exc_info=True)


def _schedule(handoff_id: int, countdown: float | None = None) -> None:
    transaction.on_commit(partial(_publish, handoff_id, countdown))


# --- enqueue ------------------------------------------------------------------------------


def enqueue_handoff(
    *,
    subject: models.Model | SubjectRef,
    event: str,
    source_department: Department,
    target_department: Department,
    payload: Mapping[str, Any],
    idempotency_key: str | None = None,
) -> Handoff:
    """Write a handoff row in the caller's transaction; delivery starts after commit.

    Idempotent per ``idempotency_key``: a second call with the same key returns the existing
    row (and schedules nothing) as long as it names the same subject and event. Nothing is
    sent inside the transaction (STYLE.md S5, S6).
    """
    subject_type, subject_id, reference = _subject_fields(subject)
    try:
        payload_json = json.loads(json.dumps(dict(payload), ensure_ascii=False))
    except (TypeError, ValueError) as exc:
        raise DomainError(_("交接内容必须可序列化为 JSON"), code="payload_not_json") from exc
    with transaction.atomic():
        if idempotency_key:
            existing = (
                Handoff.objects.defer("payload").filter(idempotency_key=idempotency_key).first()
            )
            if existing is not None:
                if (existing.subject_type, existing.subject_id, existing.event) != (
                    subject_type,
                    subject_id,
                    event,
                ):
                    raise DomainError(_("幂等键已用于其他交接"), code="idempotency_key_reused")
                return existing
        now = timezone.now()
        handoff = Handoff(
            subject_type=subject_type,
            subject_id=subject_id,
            subject_reference=reference,
            event=event,
            source_department=source_department,
            target_department=target_department,
            payload=payload_json,
            payload_version=PAYLOAD_VERSION,
            max_attempts=_max_attempts_for(_endpoint_for(target_department.pk)),
            next_attempt_at=now,
            enqueued_at=now,
        )
        if idempotency_key:
            handoff.idempotency_key = idempotency_key
        handoff.save()
        _schedule(handoff.pk)
        record_audit_event(
            actor=None,
            action="handoffs.enqueued",
            obj=handoff,
            data={
                "event": event,
                "subject": f"{subject_type}:{subject_id}",
                "target": target_department.uscc,
            },
        )
    logger.info(
        "handoff.enqueued",
        extra={"handoff_id": handoff.pk, "handoff_event": event, "target": target_department.pk},
    )
    return handoff


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


# --- acknowledgement, answers -------------------------------------------------------------


def _acknowledge(handoff: Handoff, *, now: Any) -> bool:
    if handoff.state == HandoffState.ACKNOWLEDGED:
        return False
    assert handoff.can_transition(HandoffState.ACKNOWLEDGED)
    handoff.state = HandoffState.ACKNOWLEDGED
    handoff.acknowledged_at = now
    handoff.delivered_at = handoff.delivered_at or now
    handoff.next_attempt_at = None
    handoff.save()
    return True


@transaction.atomic(durable=True)
def acknowledge_handoff(*, handoff_id: int, department: Department, actor: Any = None) -> Handoff:
    """The target department confirms receipt (inbox ack by id, or 签收 in the office queue).

    Idempotent: acknowledging an acknowledged handoff changes nothing.
    """
    handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
    if handoff.target_department_id != department.pk:
        raise DomainError(_("只能签收发给本部门的交接"), code="not_target_department")
    if _acknowledge(handoff, now=timezone.now()):
        record_audit_event(
            actor=actor, action="handoffs.acknowledged", obj=handoff, data={"via": "ack"}
        )
        logger.info("handoff.acknowledged", extra={"handoff_id": handoff.pk, "via": "ack"})
    return handoff


@transaction.atomic(durable=True)
def acknowledge_handoffs(
    *, handoff_ids: list[int], department: Department, actor: Any = None
) -> tuple[list[int], list[int]]:
    """Acknowledge a page of inbox handoffs in one transaction (pull departments).

    Returns ``(acknowledged_ids, unknown_ids)``: ids that are not the department's handoffs are
    reported, never acknowledged. Idempotent: already acknowledged handoffs are listed as
    acknowledged and change nothing. One audit event per handoff that changed.
    """
    wanted = sorted(set(handoff_ids))
    rows = list(
        Handoff.objects.select_for_update()
        .defer("payload")
        .filter(pk__in=wanted, target_department=department)
        .order_by("pk")
    )
    now = timezone.now()
    for handoff in rows:
        if _acknowledge(handoff, now=now):
            record_audit_event(
                actor=actor, action="handoffs.acknowledged", obj=handoff, data={"via": "ack"}
            )
    found = [handoff.pk for handoff in rows]
    if found:
        logger.info("handoff.acknowledged_batch", extra={"handoff_ids": found, "via": "ack"})
    return found, sorted(set(wanted) - set(found))


def record_handoff_answer(
    *,
    handoff_id: int,
    department: Department,
    kind: str,
    idempotency_key: str,
    data: Mapping[str, Any],
    actor: Any = None,
) -> tuple[HandoffAnswer, bool]:
    """Record a department's answer and apply it through the subject's registered handler.

    Returns ``(answer, created)``. Repeating an answer with the same idempotency key returns
    the first answer and has no second effect. An answer also acknowledges the handoff (it
    proves receipt). Runs in the caller's transaction when there is one (the cases API).
    """
    if kind not in AnswerKind.values:
        raise DomainError(_("未知的答复类型"), code="invalid_answer_kind")
    with transaction.atomic():
        handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
        if handoff.target_department_id != department.pk:
            raise DomainError(_("只能答复发给本部门的交接"), code="not_target_department")
        answer_data = json.loads(json.dumps(dict(data), ensure_ascii=False))
        existing = HandoffAnswer.objects.filter(
            department=department, idempotency_key=idempotency_key
        ).first()
        if existing is not None:
            if (existing.handoff_id, existing.kind, existing.data) != (
                handoff.pk,
                kind,
                answer_data,
            ):
                # Same key, different answer: 422 like the case API (apps.handoffs.idempotency).
                raise key_reused_error()
            return existing, False
        now = timezone.now()
        try:
            with transaction.atomic():
                answer = HandoffAnswer.objects.create(
                    handoff=handoff,
                    department=department,
                    kind=kind,
                    idempotency_key=idempotency_key,
                    data=answer_data,
                )
        except IntegrityError as exc:
            # The same key used at the same moment for an answer to another handoff (that
            # request locked another row, so the check above could not see it).
            raise key_reused_error() from exc
        _acknowledge(handoff, now=now)
        handler = get_answer_handler(handoff.subject_type)
        if handler is not None:
            handler(handoff=handoff, answer=answer)
            answer.handler_applied = True
            answer.save(update_fields=["handler_applied", "updated_at"])
        record_audit_event(
            actor=actor,
            action="handoffs.answered",
            obj=handoff,
            data={"kind": kind, "answer_id": answer.pk, "applied": answer.handler_applied},
        )
    logger.info(
        "handoff.answered",
        extra={"handoff_id": handoff.pk, "kind": kind, "answer_id": answer.pk},
    )
    return answer, True


# --- administrators: dead letters ---------------------------------------------------------


def _reopen(handoff: Handoff, *, now: Any) -> None:
    handoff.state = HandoffState.PENDING
    handoff.attempts = 0
    handoff.max_attempts = _max_attempts_for(_endpoint_for(handoff.target_department_id))
    handoff.next_attempt_at = now
    handoff.enqueued_at = now
    handoff.dead_at = None
    handoff.save()
    _schedule(handoff.pk)


def _check_administrator(actor: Any, handoff: Handoff) -> None:
    """Re-checked here, not only in the view: the admin action and any future caller too."""
    if not can_administer_handoff(actor, handoff):
        raise DomainError(_("只有平台管理员或收发部门的部门管理员可以处理死信"), code="forbidden")


@transaction.atomic(durable=True)
def retry_handoff(*, handoff_id: int, actor: Any) -> Handoff:
    """An administrator sends a dead letter again, with a fresh attempt budget."""
    handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
    _check_administrator(actor, handoff)
    if handoff.state != HandoffState.DEAD:
        raise DomainError(_("只有死信可以重试"), code="not_dead")
    _reopen(handoff, now=timezone.now())
    record_audit_event(
        actor=actor, action="handoffs.retried", obj=handoff, data={"error": handoff.last_error}
    )
    logger.info("handoff.retried", extra={"handoff_id": handoff.pk})
    return handoff


@transaction.atomic(durable=True)
def reroute_handoff(*, handoff_id: int, target_department: Department, actor: Any) -> Handoff:
    """An administrator re-routes a dead letter to another department (e.g. a wrong target).

    Not for subjects bound to their department (``registry.is_target_fixed``, e.g. cases):
    those are refused with a message pointing to the endpoint configuration and retry.
    """
    handoff = Handoff.objects.select_for_update().defer("payload").get(pk=handoff_id)
    _check_administrator(actor, handoff)
    if handoff.state != HandoffState.DEAD:
        raise DomainError(_("只有死信可以改派"), code="not_dead")
    if is_target_fixed(handoff.subject_type):
        # The subject's owner decides who may answer (a case: only its own department), so
        # another department could acknowledge but never answer. See registry.py.
        raise DomainError(
            _(
                "该交接的办理对象属于原接收部门（如办件由受理部门办理），不能改派到其他部门。"
                "请由该部门修正接收配置（推送地址、接收方式或密钥，或改为平台内办理）后重试投递。"
            ),
            code="target_fixed",
        )
    if target_department.pk == handoff.target_department_id:
        raise DomainError(_("改派部门与原接收部门相同"), code="same_target")
    if not target_department.is_active:
        raise DomainError(_("改派部门已停用"), code="inactive_target")
    previous = handoff.target_department_id
    handoff.target_department = target_department
    _reopen(handoff, now=timezone.now())
    record_audit_event(
        actor=actor,
        action="handoffs.rerouted",
        obj=handoff,
        data={"from_department": previous, "to_department": target_department.pk},
    )
    logger.info(
        "handoff.rerouted",
        extra={"handoff_id": handoff.pk, "from": previous, "to": target_department.pk},
    )
    return handoff


# --- endpoint configuration ---------------------------------------------------------------


def _check_configurer(actor: Any, department: Department | int) -> None:
    if not can_configure_endpoint(actor, department):
        raise DomainError(_("只有本部门管理员或平台管理员可以修改交接接收配置"), code="forbidden")


@transaction.atomic
def record_endpoint_admin_change(
    *, endpoint: DepartmentEndpoint, actor: Any, keys: list[str]
) -> None:
    """Audit a change made in the Django admin (which saves the rows itself, in its own
    transaction: hence a plain ``atomic``)."""
    record_audit_event(
        actor=actor,
        action="handoffs.endpoint_configured",
        obj=endpoint,
        data={
            "department": endpoint.department_id,
            "mode": endpoint.mode,
            "push_url": endpoint.push_url,
            "via": "admin",
            "keys": keys,
        },
    )


def _generate_secret() -> str:
    return secrets.token_urlsafe(32)


@transaction.atomic(durable=True)
def configure_endpoint(
    *,
    department: Department,
    actor: Any,
    mode: str,
    push_url: str = "",
    timeout_seconds: int = 10,
    max_attempts: int = 10,
    replay_window_seconds: int = 300,
    is_active: bool = True,
) -> DepartmentEndpoint:
    """Create or update a department's endpoint (admin or the department's administrator)."""
    _check_configurer(actor, department)
    endpoint = DepartmentEndpoint.objects.select_for_update().filter(
        department=department
    ).first() or DepartmentEndpoint(department=department)
    endpoint.mode = mode
    endpoint.push_url = push_url if mode == DeliveryMode.PUSH else ""
    endpoint.timeout_seconds = timeout_seconds
    endpoint.max_attempts = max_attempts
    endpoint.replay_window_seconds = replay_window_seconds
    endpoint.is_active = is_active
    if mode == DeliveryMode.PUSH and not push_url:
        raise DomainError(_("推送方式必须填写推送地址"), code="push_url_required")
    endpoint.full_clean()
    endpoint.save()
    record_audit_event(
        actor=actor,
        action="handoffs.endpoint_configured",
        obj=endpoint,
        data={"department": department.pk, "mode": mode, "push_url": endpoint.push_url},
    )
    return endpoint


@transaction.atomic(durable=True)
def add_signing_key(
    *, endpoint: DepartmentEndpoint, actor: Any, key_id: str, secret: str | None = None
) -> SigningKey:
    """Add a new active key (rotation step 1). Returns it with the secret, shown once."""
    _check_configurer(actor, endpoint.department_id)
    if SigningKey.objects.filter(endpoint=endpoint, key_id=key_id).exists():
        raise DomainError(_("密钥编号已存在"), code="key_id_taken")
    key = SigningKey(endpoint=endpoint, key_id=key_id, secret=secret or _generate_secret())
    key.full_clean()
    key.save()
    record_audit_event(
        actor=actor, action="handoffs.key_added", obj=endpoint, data={"key_id": key_id}
    )
    return key


@transaction.atomic(durable=True)
def deactivate_signing_key(*, key_id: int, endpoint: DepartmentEndpoint, actor: Any) -> SigningKey:
    """Retire a key (rotation step 2). The last active key of a push endpoint stays."""
    _check_configurer(actor, endpoint.department_id)
    key = SigningKey.objects.select_for_update().get(pk=key_id, endpoint=endpoint)
    if not key.is_active:
        return key
    others = SigningKey.objects.filter(endpoint=endpoint, is_active=True).exclude(pk=key.pk)
    if endpoint.mode == DeliveryMode.PUSH and not others.exists():
        raise DomainError(_("推送方式至少需要一把有效密钥"), code="last_key")
    key.is_active = False
    key.deactivated_at = timezone.now()
    key.save(update_fields=["is_active", "deactivated_at", "updated_at"])
    record_audit_event(
        actor=actor, action="handoffs.key_deactivated", obj=endpoint, data={"key_id": key.key_id}
    )
    return key
