"""The transition core every case action goes through: lock, authorise, check the state,
apply and record the event; the SLA clock and the handoff payload."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import datetime
from functools import partial
from typing import Any

from django.apps import apps as django_apps
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases import personal, sla
from apps.cases.constants import (
    TRANSITIONS,
    Actor,
    CaseAction,
    CaseKind,
    CaseStatus,
    MaterialStatus,
    target_of,
)
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    SupplementNotice,
)
from apps.cases.permissions import CaseActor, actor_kinds
from apps.core import calendar
from apps.core.exceptions import DomainError
from apps.core.queue import enqueue

# Actor kinds in order of preference when an actor holds several capacities.
_KIND_ORDER = (Actor.SYSTEM, Actor.DEPARTMENT, Actor.CLERK, Actor.APPLICANT)


# --- the transition core --------------------------------------------------------------------


def _lock(case_id: int) -> Case:
    try:
        return (
            Case.objects.select_for_update(of=("self",))
            .select_related("item_version", "department")
            .get(pk=case_id)
        )
    except Case.DoesNotExist as exc:
        raise DomainError(_("办件不存在"), code="not_found") from exc


def _authorise(case: Case, action: str, actor: CaseActor) -> str:
    """The capacity in which ``actor`` takes ``action``; refuses before any state is shown."""
    allowed = actor_kinds(actor, case) & TRANSITIONS[action].actors
    if not allowed:
        raise CaseActionForbidden(
            _("您无权对该办件执行“%(action)s”") % {"action": CaseAction(action).label},
            code="forbidden",
        )
    return next(kind for kind in _KIND_ORDER if kind in allowed)


def _check_state(case: Case, action: str) -> None:
    if case.status not in TRANSITIONS[action].sources:
        raise IllegalTransition(
            _("办件当前状态为“%(status)s”，不能执行“%(action)s”")
            % {"status": CaseStatus(case.status).label, "action": CaseAction(action).label},
            code="illegal_transition",
        )


def _begin(case: Case, action: str, actor: CaseActor) -> str:
    kind = _authorise(case, action, actor)
    _check_state(case, action)
    return kind


def _event(
    case: Case,
    *,
    action: str,
    actor: CaseActor,
    actor_kind: str,
    from_status: str,
    note: str = "",
    data: Mapping[str, Any] | None = None,
    is_public: bool = True,
) -> CaseEvent:
    data = json.loads(json.dumps(dict(data or {}), cls=DjangoJSONEncoder))
    event = CaseEvent.objects.create(
        case=case,
        action=action,
        from_status=from_status,
        to_status=case.status,
        actor_kind=actor_kind,
        actor_user=actor.user,
        actor_label=actor.label[:200],
        note=note,
        data=dict(data or {}),
        is_public=is_public,
    )
    audit_data: dict[str, Any] = {
        "number": case.number,
        "from": from_status,
        "to": case.status,
        "event_id": event.pk,
        **dict(data or {}),
    }
    if actor.client is not None:
        audit_data["api_client"] = actor.client.pk
    record_audit_event(actor=actor.user, action=f"cases.{action}", obj=case, data=audit_data)
    transaction.on_commit(partial(_notify_rollback_safe, event.pk))
    return event


def _notify_rollback_safe(event_id: int) -> None:
    enqueue("cases.notify_case_event", event_id)


def _apply(
    case: Case,
    action: str,
    actor: CaseActor,
    actor_kind: str,
    *,
    changes: Mapping[str, Any] | None = None,
    note: str = "",
    data: Mapping[str, Any] | None = None,
) -> CaseEvent:
    """Change the locked ``case`` by ``action`` (state checked by ``_begin``) and record it."""
    from_status = case.status
    fields = {"status": target_of(action, from_status), **dict(changes or {})}
    for name, value in fields.items():
        setattr(case, name, value)
    case.save(update_fields=[*fields, "updated_at"])
    return _event(
        case,
        action=action,
        actor=actor,
        actor_kind=actor_kind,
        from_status=from_status,
        note=note,
        data=data,
    )


# --- helpers on the item version ------------------------------------------------------------


def _slots(case: Case) -> dict[str, Any]:
    return {material.key: material for material in case.item_version.materials.all()}


def _promised_days(case: Case) -> int:
    version = case.item_version
    if case.kind == CaseKind.INSTANT:
        return 0
    if version.promised_limit_days is not None:
        return int(version.promised_limit_days)
    if version.legal_limit_days is not None:
        return int(version.legal_limit_days)
    # 行政许可法 Art. 42: 20 working days when the item states nothing else.
    return 20


def _deadline(case: Case) -> datetime:
    assert case.accepted_at is not None
    assert case.promised_days is not None
    return calendar.working_deadline(
        case.accepted_at, case.promised_days + case.extension_days + case.paused_days
    )


def case_clock(case: Case) -> sla.Clock | None:
    """The SLA clock of an accepted case (``None`` before acceptance)."""
    if case.accepted_at is None or case.promised_days is None:
        return None
    pauses = (sla.Pause(started_at=case.paused_since),) if case.paused_since else ()
    return sla.Clock(
        started_at=case.accepted_at,
        limit_days=case.promised_days,
        extension_days=case.extension_days,
        closed_paused_days=case.paused_days,
        pauses=pauses,
    )


def _current_materials(case: Case) -> dict[str, list[CaseMaterial]]:
    by_slot: dict[str, list[CaseMaterial]] = {}
    for material in case.materials.filter(is_current=True):
        by_slot.setdefault(material.slot_key, []).append(material)
    return by_slot


def _missing_required(case: Case, *, tolerated: Iterable[str] = ()) -> list[str]:
    """Names of required slots without a current, non-defective material."""
    from apps.catalog.constants import MaterialRequirement

    present = _current_materials(case)
    tolerated_keys = set(tolerated)
    missing = []
    for key, slot in _slots(case).items():
        if slot.requirement != MaterialRequirement.REQUIRED or key in tolerated_keys:
            continue
        if not any(m.status != MaterialStatus.DEFECTIVE for m in present.get(key, [])):
            missing.append(slot.name)
    return missing


def _open_notice(case: Case) -> SupplementNotice | None:
    return case.supplement_notices.filter(fulfilled_at__isnull=True).order_by("-sequence").first()


def _enqueue_acceptance_handoff(case: Case, actor: CaseActor) -> None:
    """Hand the accepted case to the department's own system (outbox row, same transaction)."""
    if not django_apps.is_installed("apps.handoffs"):
        # HOOK: apps.handoffs not installed; the department reads cases through the API only.
        return
    from apps.handoffs.services import enqueue_handoff

    source = case.department
    if actor.user is not None:
        # Deterministic: the clerk's oldest active membership (tests/handoffs/test_case_handoffs).
        membership = actor.user.memberships.filter(is_active=True).select_related("department")
        first = membership.order_by("pk").first()
        source = first.department if first is not None else case.department
    enqueue_handoff(
        subject=case,
        event="case.accepted",
        source_department=source,
        target_department=case.department,
        payload=handoff_payload(case),
        idempotency_key=f"case:{case.pk}:accepted",
    )


def handoff_payload(case: Case) -> dict[str, Any]:
    """The acceptance record sent to the department (GB/T 39046 6.3 事项受理, no personal data
    beyond what the department needs to process: the applicant's name and the form)."""
    version = case.item_version
    return {
        "case_number": case.number,
        "implementation_code": version.implementation_code,
        "basic_code": version.basic_code,
        "item_name": version.name,
        "item_version": version.version,
        "case_kind": case.kind,
        "status": case.status,
        "channel": case.channel,
        "applicant_name": case.applicant_name,
        "enterprise_uscc": case.enterprise.uscc if case.enterprise_id else None,
        "accepted_at": case.accepted_at.isoformat() if case.accepted_at else None,
        "deemed_accepted": case.deemed_accepted,
        "deadline": case.deadline.isoformat() if case.deadline else None,
        # The department needs the full form (its legal duty, 个人信息保护法 Art. 13); the
        # hand-off payload is encrypted at rest by the handoffs app.
        "form": personal.full_form(case),
        "materials": [
            {"key": m.slot_key, "name": m.name, "source": m.source, "status": m.status}
            for m in case.materials.filter(is_current=True).order_by("pk")
        ],
    }
