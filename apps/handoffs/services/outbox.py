"""Putting a handoff into the outbox: the subject reference, the target endpoint, and the
on-commit publication of the delivery task."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

import redis
from kombu.exceptions import OperationalError as KombuOperationalError

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.core.queue import enqueue
from apps.handoffs.models import (
    PAYLOAD_VERSION,
    DepartmentEndpoint,
    Handoff,
)

logger = logging.getLogger(__name__)


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
