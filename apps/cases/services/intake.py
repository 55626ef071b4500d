"""Submission, pre-check, supplements (补正), acceptance and rejection (受理 / 不予受理)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.cases import personal, sla
from apps.cases.constants import (
    TRANSITIONS,
    Actor,
    CaseAction,
    CaseKind,
    CaseStatus,
    DayUnit,
    Decision,
    MaterialStatus,
)
from apps.cases.hooks import DecisionEvent, run_decision_handlers
from apps.cases.models import (
    Case,
    SupplementNotice,
    ToleranceCommitment,
)
from apps.cases.numbering import allocate_case_number
from apps.cases.permissions import CaseActor
from apps.cases.services._base import (
    _apply,
    _begin,
    _current_materials,
    _deadline,
    _enqueue_acceptance_handoff,
    _lock,
    _missing_required,
    _open_notice,
    _promised_days,
    _slots,
)
from apps.cases.services.drafts import _check_assurance
from apps.core import calendar
from apps.core.exceptions import DomainError
from apps.core.i18n import join_list

# --- submission and acceptance --------------------------------------------------------------


def _stored_form(case: Case, data: Mapping[str, Any]) -> dict[str, Any]:
    fields = personal.store_form(case, data)
    return {name: getattr(case, name) for name in fields}


def _submit(case: Case, actor: CaseActor, *, require_materials: bool = True) -> None:
    from apps.catalog.forms import validate_application_data

    kind = _begin(case, CaseAction.SUBMIT, actor)
    if kind == Actor.APPLICANT:
        _check_assurance(actor.user, case.item_version)
    # Raises django ValidationError with Chinese field messages.
    cleaned = validate_application_data(
        case.item_version, personal.full_form(case), kind=case.applicant_kind
    )
    if require_materials:
        missing = _missing_required(case)
        if missing:
            raise DomainError(
                _("以下必要材料尚未提供：%(names)s") % {"names": join_list(missing)},
                code="materials_missing",
            )
    now = timezone.now()
    number = allocate_case_number(
        implementation_code=case.item_version.implementation_code, day=timezone.localdate(now)
    )
    _apply(
        case,
        CaseAction.SUBMIT,
        actor,
        kind,
        changes={
            "number": number,
            **_stored_form(case, cleaned),
            "received_at": now,
            "supplement_notice_due": sla.supplement_notice_deadline(now),
        },
    )


def submit_case(*, case_id: int, actor: CaseActor) -> Case:
    """Submit (收件): validate the form and required materials, allocate the 办件编号."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        _submit(case, actor)
    return case


def precheck_case(*, case_id: int, actor: CaseActor, note: str = "") -> Case:
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.PRECHECK, actor)
        _apply(case, CaseAction.PRECHECK, actor, kind, note=note)
    return case


def _clean_supplement_items(case: Case, items: Sequence[Mapping[str, Any]]) -> list[dict]:
    slots = _slots(case)
    cleaned: list[dict] = []
    seen: set[str] = set()
    for item in items:
        key = str(item.get("key", ""))
        reason = str(item.get("reason", "")).strip()
        if key not in slots:
            raise DomainError(_("补正清单含有该事项没有的材料"), code="unknown_material")
        if key in seen:
            continue
        if not reason:
            raise DomainError(
                _("请说明“%(name)s”需要补正的内容") % {"name": slots[key].name},
                code="reason_required",
            )
        seen.add(key)
        cleaned.append({"key": key, "name": slots[key].name, "reason": reason[:300]})
    if not cleaned:
        raise DomainError(_("补正告知必须列明需要补正的全部材料"), code="items_required")
    return cleaned


def request_supplement(
    *,
    case_id: int,
    actor: CaseActor,
    items: Sequence[Mapping[str, Any]],
    due_days: int,
    due_unit: str = DayUnit.WORKING,
    note: str = "",
) -> SupplementNotice:
    """一次性告知: list every missing or defective material at once (行政许可法 Art. 32).

    Refused after the 5-day notice window (the case then counts as accepted from receipt), and,
    after a resubmission, for any material the first notice did not list (一次告知).
    """
    with transaction.atomic(durable=True):
        return _request_supplement(
            _lock(case_id), actor, items=items, due_days=due_days, due_unit=due_unit, note=note
        )


def _check_due(due_days: int, due_unit: str) -> None:
    if due_unit not in DayUnit.values or not 1 <= int(due_days) <= 60:
        raise DomainError(_("补正期限应为 1 至 60 天"), code="invalid_due")


def _request_supplement(
    case: Case,
    actor: CaseActor,
    *,
    items: Sequence[Mapping[str, Any]],
    due_days: int,
    due_unit: str,
    note: str,
) -> SupplementNotice:
    """``request_supplement`` on a case locked by the caller, inside the caller's transaction."""
    _check_due(due_days, due_unit)
    kind = _begin(case, CaseAction.REQUEST_SUPPLEMENT, actor)
    cleaned = _clean_supplement_items(case, items)
    now = timezone.now()
    if case.supplement_notice_due is not None and now > case.supplement_notice_due:
        if case.status == CaseStatus.SUPPLEMENTED:
            message = _("已超过补正材料收到后五日的期限，依法自补正材料收到之日起视为受理")
        else:
            message = _("已超过收件后五日的补正告知期限，依法自收件之日起视为受理")
        raise DomainError(message, code="supplement_window_passed")
    previous = list(case.supplement_notices.all())
    if previous:
        allowed = {key for notice in previous for key in notice.keys}
        extra = [item["name"] for item in cleaned if item["key"] not in allowed]
        if extra:
            raise DomainError(
                _("一次性告知：不得要求补正首次告知以外的材料（%(names)s）")
                % {"names": join_list(extra)},
                code="one_time_notice",
            )
    for item in cleaned:
        case.materials.filter(slot_key=item["key"], is_current=True).update(
            status=MaterialStatus.DEFECTIVE,
            defect_reason=item["reason"],
            checked_by=actor.user,
            checked_at=now,
            updated_at=now,
        )
    notice = SupplementNotice.objects.create(
        case=case,
        sequence=len(previous) + 1,
        items=cleaned,
        note=note,
        due_days=int(due_days),
        due_unit=due_unit,
        due_at=sla.supplement_due(now, int(due_days), due_unit),
        issued_by=actor.user,
    )
    _apply(
        case,
        CaseAction.REQUEST_SUPPLEMENT,
        actor,
        kind,
        note=note,
        data={"notice_id": notice.pk, "keys": notice.keys, "due_at": notice.due_at},
    )
    return notice


def resubmit_case(*, case_id: int, actor: CaseActor, note: str = "") -> Case:
    """The applicant hands in the supplement; every listed material must have been replaced."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.RESUBMIT, actor)
        notice = _open_notice(case)
        assert notice is not None, "awaiting_supplement always has an open notice"
        present = _current_materials(case)
        missing = [
            item["name"]
            for item in notice.items
            if not any(
                m.status != MaterialStatus.DEFECTIVE and m.created_at >= notice.created_at
                for m in present.get(item["key"], [])
            )
        ]
        if missing:
            raise DomainError(
                _("以下补正材料尚未提交：%(names)s") % {"names": join_list(missing)},
                code="supplement_incomplete",
            )
        now = timezone.now()
        notice.fulfilled_at = now
        notice.save(update_fields=["fulfilled_at", "updated_at"])
        # Art. 32 again: the full supplement is a new receipt. The acceptance date is its
        # arrival, and without acceptance or refusal within 5 days the case counts as accepted
        # from that arrival (``deem_case_accepted``).
        _apply(
            case,
            CaseAction.RESUBMIT,
            actor,
            kind,
            changes={"supplement_notice_due": sla.supplement_notice_deadline(now)},
            note=note,
            data={"notice_id": notice.pk},
        )
    return case


def _check_tolerances(case: Case, tolerances: Sequence[Mapping[str, Any]]) -> list[dict]:
    if not tolerances:
        return []
    version = case.item_version
    if not version.allows_tolerance:
        raise DomainError(_("该事项不适用容缺受理"), code="tolerance_not_allowed")
    slots = _slots(case)
    cleaned = []
    for item in tolerances:
        key = str(item.get("key", ""))
        slot = slots.get(key)
        if slot is None:
            raise DomainError(_("容缺材料不属于该事项"), code="unknown_material")
        if slot.is_key:
            raise DomainError(
                _("“%(name)s”是关键材料，不能容缺") % {"name": slot.name}, code="key_material"
            )
        commitment = str(item.get("commitment", "")).strip()
        if not commitment:
            raise DomainError(_("容缺受理须有申请人签署的信用承诺"), code="commitment_required")
        cleaned.append({"key": key, "name": slot.name, "commitment": commitment})
    return cleaned


def _supplement_arrival(case: Case) -> datetime | None:
    """When the latest full supplement arrived (``None`` if none was ever fulfilled)."""
    notice = (
        case.supplement_notices.filter(fulfilled_at__isnull=False).order_by("-sequence").first()
    )
    return notice.fulfilled_at if notice is not None else None


def _acceptance_moment(case: Case, now: datetime) -> tuple[datetime, bool]:
    """The acceptance date of ``case`` if accepted ``now``, and whether Art. 32 deems it.

    行政许可法 Art. 32 (DOMAIN.md §1.6):
    - after a supplement, the acceptance date is the day the full supplement arrived
      (resubmission), not the moment the clerk accepts;
    - when the 5-day window (from receipt, or from the full supplement's arrival) has passed,
      the case counts as accepted from that receipt, even if a clerk presses 受理 before the
      beat task has applied the rule;
    - a supplement handed in at the window (accepting from 待补正) arrives now.
    """
    if case.status == CaseStatus.AWAITING_SUPPLEMENT:
        return now, False
    deemed = case.supplement_notice_due is not None and now > case.supplement_notice_due
    if case.status == CaseStatus.SUPPLEMENTED:
        arrival = _supplement_arrival(case)
        assert arrival is not None, "supplemented always has a fulfilled notice"
        return arrival, deemed
    if deemed:
        assert case.received_at is not None
        return case.received_at, True
    return now, False


def _accept(
    case: Case,
    actor: CaseActor,
    *,
    tolerances: Sequence[Mapping[str, Any]] = (),
    tolerance_days: int | None = None,
    note: str = "",
    instant: bool = False,
) -> None:
    action = CaseAction.ACCEPT_INSTANT if instant else CaseAction.ACCEPT
    kind = _begin(case, action, actor)
    if instant and case.kind != CaseKind.INSTANT:
        raise DomainError(_("只有即办件可以当场办结"), code="not_instant")
    tolerated = _check_tolerances(case, tolerances)
    if instant and tolerated:
        raise DomainError(_("即办件不适用容缺受理"), code="tolerance_not_allowed")
    missing = _missing_required(case, tolerated=[t["key"] for t in tolerated])
    if missing:
        raise DomainError(
            _("材料不齐，不能受理：%(names)s") % {"names": join_list(missing)},
            code="materials_incomplete",
        )
    now = timezone.now()
    notice = _open_notice(case)
    if notice is not None:
        # The full supplement arrived at the window: the acceptance date is now.
        notice.fulfilled_at = now
        notice.save(update_fields=["fulfilled_at", "updated_at"])
    case.materials.filter(is_current=True, status=MaterialStatus.PENDING).update(
        status=MaterialStatus.ACCEPTED, checked_by=actor.user, checked_at=now, updated_at=now
    )
    days = int(tolerance_days or settings.CASES_TOLERANCE_DAYS)
    for item in tolerated:
        ToleranceCommitment.objects.create(
            case=case,
            slot_key=item["key"],
            name=item["name"],
            commitment=item["commitment"],
            due_at=calendar.working_deadline(now, days),
        )
    accepted_at, deemed = _acceptance_moment(case, now)
    case.accepted_at = accepted_at
    case.promised_days = _promised_days(case)
    changes: dict[str, Any] = {
        "accepted_at": accepted_at,
        "deemed_accepted": deemed,
        "accepted_by": actor.user,
        "promised_days": case.promised_days,
        "deadline": _deadline(case),
    }
    if instant:
        changes.update(
            decision=Decision.APPROVED, decided_at=now, completed_at=now, deadline=_deadline(case)
        )
    _apply(
        case,
        action,
        actor,
        kind,
        changes=changes,
        note=note,
        data={
            "tolerated": [t["key"] for t in tolerated],
            "accepted_at": accepted_at,
            "deemed_accepted": deemed,
            "deadline": changes["deadline"],
        },
    )
    if instant:
        # 即办件: the approval is decided in this step, so the decision hook (result licence)
        # runs here, inside the same transaction, like any decide.
        version = case.item_version
        run_decision_handlers(
            DecisionEvent(
                case=case,
                decision=Decision.APPROVED,
                actor=actor,
                licence_type=version.result_licence_type or "",
                result_name=version.result_name or "",
            )
        )
    _enqueue_acceptance_handoff(case, actor)


def accept_case(
    *,
    case_id: int,
    actor: CaseActor,
    tolerances: Sequence[Mapping[str, Any]] = (),
    tolerance_days: int | None = None,
    note: str = "",
) -> Case:
    """受理: start the SLA clock and hand the case to the department (outbox, same transaction).

    ``tolerances`` (容缺受理) lists non-key required materials accepted as missing, each with
    the applicant's signed commitment; only for items that allow it.
    """
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        _accept(case, actor, tolerances=tolerances, tolerance_days=tolerance_days, note=note)
    return case


def accept_instant_case(*, case_id: int, actor: CaseActor, note: str = "") -> Case:
    """即办件: accept and complete in one step (DOMAIN.md §1.6)."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        _accept(case, actor, note=note, instant=True)
    return case


def deem_case_accepted(*, case_id: int) -> Case | None:
    """行政许可法 Art. 32: no supplement notice within 5 days → accepted from receipt; after a
    full supplement, not accepted or refused within 5 days → accepted from its arrival.

    Idempotent: returns ``None`` (and writes nothing) when the case is no longer waiting or the
    window has not passed. Called by the beat task.
    """
    actor = CaseActor.system()
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        if case.status not in TRANSITIONS[CaseAction.DEEM_ACCEPTED].sources:
            return None
        if case.supplement_notice_due is None or timezone.now() <= case.supplement_notice_due:
            return None
        kind = _begin(case, CaseAction.DEEM_ACCEPTED, actor)
        accepted_at, _deemed = _acceptance_moment(case, timezone.now())
        case.accepted_at = accepted_at
        case.promised_days = _promised_days(case)
        if case.status == CaseStatus.SUPPLEMENTED:
            note = _("补正材料收到后五日内未受理，依法自补正材料收到之日起视为受理")
        else:
            note = _("收件后五日内未一次性告知补正，依法自收件之日起视为受理")
        _apply(
            case,
            CaseAction.DEEM_ACCEPTED,
            actor,
            kind,
            changes={
                "accepted_at": accepted_at,
                "deemed_accepted": True,
                "promised_days": case.promised_days,
                "deadline": _deadline(case),
            },
            note=note,
            data={"accepted_at": accepted_at},
        )
        _enqueue_acceptance_handoff(case, actor)
    return case


def reject_case(
    *, case_id: int, actor: CaseActor, reason: str, legal_basis: str, redirect_to: str = ""
) -> Case:
    """不予受理: written reason, legal basis and, when outside competence, where to apply."""
    if not reason.strip():
        raise DomainError(_("不予受理须说明理由"), code="reason_required")
    if not legal_basis.strip():
        # 行政许可法 Art. 32 / 38: a written decision states its legal basis.
        raise DomainError(_("不予受理须写明法律依据"), code="legal_basis_required")
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        kind = _begin(case, CaseAction.REJECT, actor)
        _apply(
            case,
            CaseAction.REJECT,
            actor,
            kind,
            changes={
                "not_accepted_reason": reason.strip(),
                "legal_basis": legal_basis.strip()[:300],
                "redirect_to": redirect_to.strip()[:200],
                "closed_at": timezone.now(),
            },
            note=reason.strip(),
        )
    return case


def expire_supplement(*, case_id: int) -> Case | None:
    """Close a case whose supplement period ran out (beat task; idempotent)."""
    actor = CaseActor.system()
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        if case.status != CaseStatus.AWAITING_SUPPLEMENT:
            return None
        notice = _open_notice(case)
        if notice is None or timezone.now() <= notice.due_at:
            return None
        kind = _begin(case, CaseAction.EXPIRE_SUPPLEMENT, actor)
        _apply(
            case,
            CaseAction.EXPIRE_SUPPLEMENT,
            actor,
            kind,
            changes={"closed_at": timezone.now()},
            data={"notice_id": notice.pk},
        )
    return case
