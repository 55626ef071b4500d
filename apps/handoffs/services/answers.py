"""Acknowledgements and answers from the departments' systems (inbox pull and push replies)."""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.handoffs.constants import AnswerKind, HandoffState
from apps.handoffs.idempotency import key_reused_error
from apps.handoffs.models import (
    Handoff,
    HandoffAnswer,
)
from apps.handoffs.registry import get_answer_handler

logger = logging.getLogger(__name__)

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
