"""Review and decision by the department, suspension and extension, completion, delivery,
withdrawal, and the department's answers arriving through the handoff outbox."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.cases import sla
from apps.cases.constants import (
    Actor,
    CaseAction,
    CaseStatus,
    Decision,
    PauseKind,
)
from apps.cases.exceptions import IllegalTransition
from apps.cases.hooks import DecisionEvent, run_decision_handlers
from apps.cases.models import (
    Case,
    CaseEvent,
    SlaPause,
)
from apps.cases.permissions import CaseActor
from apps.cases.services._base import _apply, _begin, _deadline, _event, _lock
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list

# --- review and decision (department) -------------------------------------------------------


def _start_review(case: Case, actor: CaseActor, note: str = "") -> None:
    kind = _begin(case, CaseAction.START_REVIEW, actor)
    _apply(case, CaseAction.START_REVIEW, actor, kind, note=note)


def start_review(*, case_id: int, actor: CaseActor, note: str = "") -> Case:
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        _start_review(case, actor, note)
    return case


def suspend_case(*, case_id: int, actor: CaseActor, kind: str, reason: str) -> Case:
    """Start a special procedure (特别程序): the SLA clock stops until ``resume_case``."""
    if kind not in PauseKind.values:
        raise DomainError(_("特别程序种类无效"), code="invalid_kind")
    if not reason.strip():
        raise DomainError(_("启动特别程序须说明理由或依据"), code="reason_required")
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        actor_kind = _begin(case, CaseAction.SUSPEND, actor)
        now = timezone.now()
        pause = SlaPause.objects.create(
            case=case, kind=kind, reason=reason.strip()[:300], started_at=now
        )
        _apply(
            case,
            CaseAction.SUSPEND,
            actor,
            actor_kind,
            changes={"paused_since": now},
            note=reason.strip(),
            data={"pause_id": pause.pk, "kind": kind},
        )
    return case


def _close_pause(case: Case, now: datetime, result: str = "") -> int:
    pause = case.pauses.filter(ended_at__isnull=True).first()
    if pause is None:
        return 0
    pause.ended_at = now
    pause.working_days = sla.pause_working_days(sla.Pause(pause.started_at, now), now)
    pause.result = result
    pause.save(update_fields=["ended_at", "working_days", "result", "updated_at"])
    return pause.working_days


def resume_case(*, case_id: int, actor: CaseActor, result: str = "") -> Case:
    """End the special procedure: the paused working days push the deadline back."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.RESUME, actor)
        now = timezone.now()
        days = _close_pause(case, now, result.strip())
        case.paused_days += days
        _apply(
            case,
            CaseAction.RESUME,
            actor,
            kind,
            changes={
                "paused_days": case.paused_days,
                "paused_since": None,
                "deadline": _deadline(case),
            },
            note=result.strip(),
            data={"paused_working_days": days},
        )
    return case


def extend_case(*, case_id: int, actor: CaseActor, days: int, reason: str) -> Case:
    """延长审批 (特别程序 type 1): at most CASES_MAX_EXTENSION_DAYS in total (Art. 42: 10)."""
    if not reason.strip():
        raise DomainError(_("延长期限须说明理由"), code="reason_required")
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.EXTEND, actor)
        limit = int(settings.CASES_MAX_EXTENSION_DAYS)
        if days < 1 or case.extension_days + days > limit:
            raise DomainError(
                _("延长期限合计不得超过 %(limit)s 个工作日") % {"limit": limit},
                code="extension_too_long",
            )
        case.extension_days += days
        _apply(
            case,
            CaseAction.EXTEND,
            actor,
            kind,
            changes={"extension_days": case.extension_days, "deadline": _deadline(case)},
            note=reason.strip(),
            data={"days": days},
        )
    return case


def _decide(
    case: Case,
    actor: CaseActor,
    *,
    decision: str,
    reason: str = "",
    result_data: Mapping[str, Any] | None = None,
) -> None:
    kind = _begin(case, CaseAction.DECIDE, actor)
    if decision not in Decision.values:
        raise DomainError(_("决定结果无效"), code="invalid_decision")
    if decision != Decision.APPROVED and not reason.strip():
        # 行政许可法 Art. 38: a refusal states its reasons and the remedies.
        raise DomainError(_("不予许可或部分准予须说明理由"), code="reason_required")
    if decision != Decision.DENIED:
        # 容缺受理: the tolerated materials must arrive before anything is granted.
        open_names = list(
            case.tolerances.filter(fulfilled_at__isnull=True).values_list("name", flat=True)
        )
        if open_names:
            message = _("容缺材料尚未补齐，不能作出准予决定：%(names)s")
            raise DomainError(message % {"names": join_list(open_names)}, code="tolerance_open")
    _apply(
        case,
        CaseAction.DECIDE,
        actor,
        kind,
        changes={
            "decision": decision,
            "decision_reason": reason.strip(),
            "result_data": dict(result_data or {}),
            "decided_at": timezone.now(),
        },
        note=reason.strip(),
        data={"decision": decision},
    )
    version = case.item_version
    run_decision_handlers(
        DecisionEvent(
            case=case,
            decision=decision,
            actor=actor,
            licence_type=version.result_licence_type or "",
            result_name=version.result_name or "",
        )
    )


def record_result_licence(
    *, case: Case, identifier: str, name: str, valid_until: date | None = None
) -> CaseEvent:
    """Record the result licence (结果证照名称/编号, GB/T 39046 6.5) on a decided case.

    For decision handlers (``apps.cases.hooks``): runs inside the decision's transaction, on the
    locked case, and writes a public timeline entry with its audit record.
    """
    if case.status not in (CaseStatus.DECIDED, CaseStatus.COMPLETED):
        raise IllegalTransition(_("只有已决定的办件可以登记结果证照"), code="illegal_transition")
    licence = {"identifier": identifier, "name": name}
    if valid_until is not None:
        licence["valid_until"] = valid_until.isoformat()
    case.result_data = {**(case.result_data or {}), "licence": licence}
    case.save(update_fields=["result_data", "updated_at"])
    return _event(
        case,
        action="result_licence",
        actor=CaseActor.system(),
        actor_kind=Actor.SYSTEM,
        from_status=case.status,
        note=name,
        data={"licence": licence},
    )


def decide_case(
    *,
    case_id: int,
    actor: CaseActor,
    decision: str,
    reason: str = "",
    result_data: Mapping[str, Any] | None = None,
    complete: bool = False,
) -> Case:
    """作出决定 (准予 / 部分准予 / 不予, a refusal with its reasons), and 办结 in the same
    transaction when ``complete`` is true: either both happen or neither does."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        _decide(case, actor, decision=decision, reason=reason, result_data=result_data)
        if complete:
            _complete(case, actor)
    return case


def _complete(case: Case, actor: CaseActor, *, note: str = "") -> None:
    kind = _begin(case, CaseAction.COMPLETE, actor)
    _apply(
        case, CaseAction.COMPLETE, actor, kind, changes={"completed_at": timezone.now()}, note=note
    )


def complete_case(*, case_id: int, actor: CaseActor, note: str = "") -> Case:
    """办结 (the result licence, when the item issues one, comes with the decision: hooks.py)."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        _complete(case, actor, note=note)
    return case


def deliver_case(*, case_id: int, actor: CaseActor, method: str = "window", note: str = "") -> Case:
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.DELIVER, actor)
        _apply(
            case,
            CaseAction.DELIVER,
            actor,
            kind,
            changes={"delivered_at": timezone.now()},
            note=note,
            data={"method": method[:32]},
        )
    return case


def withdraw_case(*, case_id: int, actor: CaseActor, reason: str = "") -> Case:
    """撤件: the applicant withdraws before a decision."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.WITHDRAW, actor)
        now = timezone.now()
        changes: dict[str, Any] = {"withdraw_reason": reason.strip()[:300], "closed_at": now}
        if case.paused_since is not None:
            case.paused_days += _close_pause(case, now)
            changes.update(paused_days=case.paused_days, paused_since=None)
        _apply(case, CaseAction.WITHDRAW, actor, kind, changes=changes, note=reason.strip())
    return case


# --- department answers through the handoff outbox -------------------------------------------


def apply_department_answer(*, handoff: Any, answer: Any) -> None:
    """Answer handler for subject type ``cases.case`` (registered in ``CasesConfig.ready``).

    Runs inside the handoffs transaction, once per answer idempotency key:
    ``received`` → start review; ``decision`` → decide (and complete when ``complete`` is true).
    Already-applied states are a no-op, so a repeated answer under a new key changes nothing.
    """
    from apps.core.models import Department

    case = _lock(int(handoff.subject_id))
    department = Department.objects.get(pk=answer.department_id)
    actor = CaseActor(department=department)
    data = answer.data or {}
    if answer.kind == "received":
        if case.status == CaseStatus.ACCEPTED:
            _start_review(case, actor, note=str(data.get("note", "")))
        return
    if answer.kind == "decision":
        if case.status == CaseStatus.ACCEPTED:
            _start_review(case, actor)
        if case.status == CaseStatus.IN_REVIEW:
            _decide(
                case,
                actor,
                decision=str(data.get("decision", "")),
                reason=str(data.get("reason", "")),
                result_data=data.get("result") or {},
            )
        if data.get("complete") and case.status == CaseStatus.DECIDED:
            _complete(case, actor)
