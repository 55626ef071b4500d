"""Every write to a case (STYLE.md C3). One public function per ``CaseAction``.

Each transition:
1. locks the case row (``select_for_update``),
2. checks the actor's capacity (``permissions.actor_kinds``) against ``TRANSITIONS``,
3. checks the current state against ``TRANSITIONS`` (``IllegalTransition`` → 409 on the API),
4. applies the action's own rules (DOMAIN.md §1.5–1.6), changes the row,
5. writes a ``CaseEvent`` and, last, the audit event, in the same transaction,
6. schedules notifications with ``transaction.on_commit``.

A refused action raises before anything is written. Public entry points own a durable
transaction; the ``_``-prefixed helpers run inside a caller's transaction so that composite
flows (一窗受理: create + submit + accept) and the handoff answer handler stay atomic.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from functools import partial
from typing import Any

from django.apps import apps as django_apps
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.audit.services import record_audit_event
from apps.cases import personal, sla, uploads
from apps.cases.constants import (
    CLOCK_STATES,
    TRANSITIONS,
    Actor,
    ApplicantKind,
    CaseAction,
    CaseKind,
    CaseStatus,
    Channel,
    DayUnit,
    Decision,
    MaterialSource,
    MaterialStatus,
    PauseKind,
    target_of,
)
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.hooks import DecisionEvent, run_decision_handlers
from apps.cases.materials import resolve_licence
from apps.cases.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    SlaPause,
    SlaWarning,
    SupplementNotice,
    ToleranceCommitment,
)
from apps.cases.numbering import allocate_case_number
from apps.cases.permissions import CaseActor, actor_kinds
from apps.cases.tasks import notify_case_event as notify_case_event_task
from apps.catalog.constants import Channel as CatalogChannel
from apps.core import calendar
from apps.core.exceptions import DomainError

logger = logging.getLogger(__name__)

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
    notify_case_event_task.delay(event_id)


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


# --- drafts and materials (applicant) -------------------------------------------------------


def _check_assurance(user: Any, version: Any) -> None:
    required = int(version.min_assurance_level or 1)
    if int(getattr(user, "assurance_level", 1)) < required:
        raise DomainError(
            _("办理该事项需要实名等级 L%(level)s 及以上，请先提升实名等级") % {"level": required},
            code="assurance_too_low",
        )


def _resolve_enterprise(user: Any, enterprise: Any, version: Any) -> Any | None:
    """The authorisation used to act for ``enterprise`` (None for its representatives)."""
    from apps.identity.selectors import active_authorisation, enterprise_capacity

    if not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态，不能申请"), code="enterprise_inactive")
    if enterprise_capacity(user, enterprise) is not None:
        return None
    authorisation = active_authorisation(
        user, enterprise, [version.implementation_code, version.basic_code]
    )
    if authorisation is None:
        raise DomainError(_("您没有代理该企业办理本事项的有效授权"), code="no_authorisation")
    return authorisation


def _new_case(
    *,
    version: Any,
    acting_user: Any | None,
    applicant_user: Any | None,
    enterprise: Any | None,
    channel: str,
    form_data: Mapping[str, Any] | None,
    hall: Any | None = None,
    walk_in_person: Any | None = None,
    window_capacity: str = "",
) -> Case:
    """A draft case. ``window_capacity`` is how the clerk identified the person acting for
    ``enterprise`` at the window (``apps.identity.services.WindowApplicant.capacity``): an
    online authorisation is then still checked against the item, a paper letter is not."""
    authorisation = None
    kind = ApplicantKind.PERSON
    if enterprise is not None:
        if acting_user is not None and window_capacity != "paper_agent":
            authorisation = _resolve_enterprise(acting_user, enterprise, version)
        else:
            _check_window_enterprise(enterprise, walk_in_person, window_capacity)
        kind = (
            ApplicantKind.AGENT
            if authorisation is not None or window_capacity in ("agent", "paper_agent")
            else ApplicantKind.ENTERPRISE
        )
    if enterprise is not None:
        name_source = enterprise.name
    elif applicant_user is not None:
        name_source = applicant_user.display_name
    else:
        name_source = walk_in_person.name
    case = Case(
        item_version=version,
        department_id=version.department_id,
        hall=hall,
        status=CaseStatus.DRAFT,
        channel=channel,
        kind=version.case_kind,
        applicant_user=applicant_user,
        enterprise=enterprise,
        acting_user=acting_user,
        walk_in_person=walk_in_person,
        applicant_kind=kind,
        authorisation=authorisation,
        applicant_name=str(name_source or acting_user.get_username())[:200],
    )
    personal.store_form(case, dict(form_data or {}))
    case.full_clean(exclude=["number"])
    case.save()
    return case


def _check_window_enterprise(enterprise: Any, walk_in_person: Any, capacity: str) -> None:
    """A walk-in acts for ``enterprise`` on a paper letter the clerk checked, or as the legal
    representative the 法人库 names (re-checked here, not taken from the session)."""
    from apps.identity.services import registry_names_legal_rep

    if not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态，不能申请"), code="enterprise_inactive")
    if capacity == "paper_agent":
        return
    if walk_in_person is not None and registry_names_legal_rep(
        enterprise, id_index=walk_in_person.id_number_index, name=walk_in_person.name
    ):
        return
    raise DomainError(_("请核验加盖单位公章的授权委托书"), code="authorisation_required")


def create_draft(
    *, user: Any, version: Any, enterprise: Any | None = None, form_data: Mapping | None = None
) -> Case:
    """Start an online application (草稿) for ``version`` as ``user`` (for ``enterprise``).

    Refused when the user's real-name level is below the item's minimum, or when the user may
    not act for the enterprise on this item.
    """
    _check_assurance(user, version)
    if version.channel == CatalogChannel.WINDOW:
        raise DomainError(_("该事项仅支持窗口办理，请到政务服务大厅申请"), code="window_only")
    with transaction.atomic(durable=True):
        case = _new_case(
            version=version,
            acting_user=user,
            applicant_user=None if enterprise is not None else user,
            enterprise=enterprise,
            channel=Channel.ONLINE,
            form_data=form_data,
        )
        _event(
            case,
            action="draft_created",
            actor=CaseActor.of(user),
            actor_kind=Actor.APPLICANT,
            from_status="",
            data={"item_version": version.pk},
        )
    return case


def save_draft(*, case_id: int, user: Any, form_data: Mapping[str, Any]) -> Case:
    """Store the form as typed so far (not validated yet; submission validates)."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        if Actor.APPLICANT not in actor_kinds(CaseActor.of(user), case):
            raise CaseActionForbidden(_("您无权修改该办件"), code="forbidden")
        if case.status != CaseStatus.DRAFT:
            raise IllegalTransition(_("只有草稿可以修改申请表"), code="illegal_transition")
        fields = personal.store_form(case, dict(form_data))
        case.save(update_fields=[*fields, "updated_at"])
        record_audit_event(actor=user, action="cases.draft_saved", obj=case)
    return case


def discard_draft(*, case_id: int, user: Any) -> None:
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        if Actor.APPLICANT not in actor_kinds(CaseActor.of(user), case):
            raise CaseActionForbidden(_("您无权修改该办件"), code="forbidden")
        if case.status != CaseStatus.DRAFT:
            raise IllegalTransition(_("只有草稿可以删除"), code="illegal_transition")
        files = [m.file.name for m in case.materials.all() if m.file]
        record_audit_event(actor=user, action="cases.draft_discarded", obj=case)
        case.delete()
        storage = uploads.case_file_storage()
        transaction.on_commit(lambda: [storage.delete(name) for name in files])


# States in which each side may add materials.
_APPLICANT_MATERIAL_STATES = {CaseStatus.DRAFT, CaseStatus.AWAITING_SUPPLEMENT}
_CLERK_MATERIAL_STATES = {
    CaseStatus.DRAFT,
    CaseStatus.SUBMITTED,
    CaseStatus.PRECHECKED,
    CaseStatus.AWAITING_SUPPLEMENT,
    CaseStatus.SUPPLEMENTED,
    CaseStatus.ACCEPTED,
    CaseStatus.IN_REVIEW,
}


# After acceptance, materials tolerated at acceptance (容缺) may still be supplied.
_TOLERANCE_STATES = {CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED}


def _open_tolerance_lapsed_count(case: Case) -> int:
    return case.tolerances.filter(fulfilled_at__isnull=True, lapsed_at__isnull=False).count()


def _open_tolerance(case: Case, slot_key: str) -> ToleranceCommitment | None:
    return case.tolerances.filter(slot_key=slot_key, fulfilled_at__isnull=True).first()


def _material_slot(case: Case, actor: CaseActor, slot_key: str) -> tuple[Any, str]:
    kinds = actor_kinds(actor, case)
    if Actor.CLERK in kinds and case.status in _CLERK_MATERIAL_STATES:
        kind = Actor.CLERK
    elif Actor.APPLICANT in kinds and case.status in _APPLICANT_MATERIAL_STATES:
        kind = Actor.APPLICANT
    elif (
        Actor.APPLICANT in kinds
        and case.status in _TOLERANCE_STATES
        and _open_tolerance(case, slot_key) is not None
    ):
        # 容缺受理: the applicant supplies the tolerated material after acceptance.
        kind = Actor.APPLICANT
    elif kinds & {Actor.CLERK, Actor.APPLICANT}:
        raise IllegalTransition(
            _("办件当前状态为“%(status)s”，不能提交材料") % {"status": case.get_status_display()},
            code="illegal_transition",
        )
    else:
        raise CaseActionForbidden(_("您无权为该办件提交材料"), code="forbidden")
    slot = _slots(case).get(slot_key)
    if slot is None:
        raise DomainError(_("该事项没有这项材料"), code="unknown_material")
    return slot, kind


def _add_material(
    case: Case, actor: CaseActor, actor_kind: str, slot: Any, **fields: Any
) -> CaseMaterial:
    if case.status == CaseStatus.AWAITING_SUPPLEMENT:
        # A supplement replaces what was found defective in that slot.
        case.materials.filter(
            slot_key=slot.key, is_current=True, status=MaterialStatus.DEFECTIVE
        ).update(is_current=False, updated_at=timezone.now())
    material = CaseMaterial.objects.create(
        case=case, slot_key=slot.key, name=slot.name, added_by=actor.user, **fields
    )
    _event(
        case,
        action="material_added",
        actor=actor,
        actor_kind=actor_kind,
        from_status=case.status,
        data={"material_id": material.pk, "slot": slot.key, "source": material.source},
    )
    tolerance = _open_tolerance(case, slot.key) if case.status in _TOLERANCE_STATES else None
    if tolerance is not None:
        tolerance.fulfilled_at = timezone.now()
        tolerance.save(update_fields=["fulfilled_at", "updated_at"])
        if case.tolerance_lapsed and _open_tolerance_lapsed_count(case) == 0:
            case.tolerance_lapsed = False
            case.save(update_fields=["tolerance_lapsed", "updated_at"])
        _event(
            case,
            action="tolerance_fulfilled",
            actor=actor,
            actor_kind=actor_kind,
            from_status=case.status,
            note=tolerance.name,
            data={"tolerance_id": tolerance.pk, "material_id": material.pk},
        )
    return material


def add_material_upload(
    *, case_id: int, actor: CaseActor, slot_key: str, upload: Any
) -> CaseMaterial:
    """Attach an uploaded file to a material slot (type sniffed, size bounded)."""
    checked = uploads.check_upload(upload)
    storage = uploads.case_file_storage()
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        slot, kind = _material_slot(case, actor, slot_key)
        name = storage.save(uploads.stored_name(checked), upload)
        # A refusal below must not leave an orphan file behind.
        try:
            material = _add_material(
                case,
                actor,
                kind,
                slot,
                source=MaterialSource.UPLOAD,
                file=name,
                original_name=checked.original_name,
                content_type=checked.content_type,
                size=checked.size,
                sha256=checked.sha256,
            )
        except Exception:
            storage.delete(name)
            raise
    return material


def add_material_licence(
    *, case_id: int, actor: CaseActor, slot_key: str, identifier: str
) -> CaseMaterial:
    """Satisfy a slot with an e-licence (电子证照) instead of a file (免提交)."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        slot, kind = _material_slot(case, actor, slot_key)
        if not slot.licence_types:
            raise DomainError(_("该材料不能以电子证照代替"), code="licence_not_accepted")
        holder = case.applicant_user or case.acting_user
        if holder is None and case.enterprise is None:
            raise DomainError(
                _("申请人尚未注册网上账号，不能引用其电子证照"), code="licence_not_accepted"
            )
        reference = resolve_licence(
            user=holder,
            enterprise=case.enterprise,
            identifier=identifier,
            licence_types=list(slot.licence_types),
        )
        return _add_material(
            case,
            actor,
            kind,
            slot,
            source=MaterialSource.LICENCE,
            licence_identifier=reference.identifier,
        )


def add_material_shared(
    *, case_id: int, actor: CaseActor, slot_key: str, shared_source: str
) -> CaseMaterial:
    """Satisfy a slot from a shared-data source listed on the item (e.g. 人口库-户籍信息)."""
    with transaction.atomic(durable=True):
        case = _lock(case_id)
        slot, kind = _material_slot(case, actor, slot_key)
        if shared_source not in (slot.shared_sources or []):
            raise DomainError(_("该材料不能以此共享数据代替"), code="shared_source_invalid")
        return _add_material(
            case, actor, kind, slot, source=MaterialSource.SHARED, shared_source=shared_source
        )


def mark_material(
    *, material_id: int, actor: CaseActor, status: str, reason: str = ""
) -> CaseMaterial:
    """A clerk or the department marks a material accepted or defective (with a reason)."""
    if status not in (MaterialStatus.ACCEPTED, MaterialStatus.DEFECTIVE):
        raise DomainError(_("核验结果无效"), code="invalid_status")
    if status == MaterialStatus.DEFECTIVE and not reason.strip():
        raise DomainError(_("请说明材料的缺陷"), code="reason_required")
    with transaction.atomic(durable=True):
        case_id = CaseMaterial.objects.values_list("case_id", flat=True).filter(pk=material_id)
        ids = list(case_id)
        if not ids:
            raise DomainError(_("材料不存在"), code="not_found")
        case = _lock(ids[0])
        kinds = actor_kinds(actor, case) & {Actor.CLERK, Actor.DEPARTMENT}
        if not kinds:
            raise CaseActionForbidden(_("您无权核验该办件的材料"), code="forbidden")
        if case.is_terminal:
            raise IllegalTransition(_("办件已终结，不能再核验材料"), code="illegal_transition")
        material = case.materials.get(pk=material_id)
        material.status = status
        material.defect_reason = reason.strip() if status == MaterialStatus.DEFECTIVE else ""
        material.checked_by = actor.user
        material.checked_at = timezone.now()
        material.save(
            update_fields=["status", "defect_reason", "checked_by", "checked_at", "updated_at"]
        )
        _event(
            case,
            action="material_checked",
            actor=actor,
            actor_kind=next(k for k in _KIND_ORDER if k in kinds),
            from_status=case.status,
            note=material.defect_reason,
            data={"material_id": material.pk, "status": status},
        )
    return material


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
                _("以下必要材料尚未提供：%(names)s") % {"names": "、".join(missing)},
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
    if due_unit not in DayUnit.values or not 1 <= int(due_days) <= 60:
        raise DomainError(_("补正期限应为 1 至 60 天"), code="invalid_due")
    with transaction.atomic(durable=True):
        case = _lock(case_id)
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
                    % {"names": "、".join(extra)},
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
                _("以下补正材料尚未提交：%(names)s") % {"names": "、".join(missing)},
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
            _("材料不齐，不能受理：%(names)s") % {"names": "、".join(missing)},
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
            raise DomainError(message % {"names": "、".join(open_names)}, code="tolerance_open")
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


# --- 一窗受理: the window flow ----------------------------------------------------------------


def create_window_case(
    *,
    clerk: Any,
    version: Any,
    applicant_user: Any | None,
    enterprise: Any | None = None,
    acting_user: Any | None = None,
    walk_in_person: Any | None = None,
    window_capacity: str = "",
    form_data: Mapping[str, Any] | None = None,
    received_keys: Iterable[str] = (),
    tolerances: Sequence[Mapping[str, Any]] = (),
    accept: bool = True,
    hall: Any | None = None,
) -> Case:
    """Create, submit and (by default) accept a walk-in case in one transaction.

    The clerk ticks the paper materials received; the case goes through the same transitions
    as an online one (draft → submitted → accepted, or → completed for 即办件), each with its
    event and audit record. Any refusal rolls back the whole flow.

    A person without an account is served through their ``walk_in_person`` record (the clerk
    checked their ID card against the registry, ``identity.services.identify_at_window``):
    the case then has no account behind it until they claim it (``claim_walk_in_cases``);
    its notices go by SMS to the phone the clerk recorded.
    """
    actor = CaseActor.of(clerk)
    person = acting_user or applicant_user or walk_in_person
    if person is None:
        raise DomainError(_("请先确认申请人身份"), code="applicant_required")
    with transaction.atomic(durable=True):
        case = _new_case(
            version=version,
            acting_user=acting_user or applicant_user,
            applicant_user=applicant_user,
            enterprise=enterprise,
            channel=Channel.WINDOW,
            form_data=form_data,
            hall=hall,
            walk_in_person=walk_in_person,
            window_capacity=window_capacity,
        )
        kinds = actor_kinds(actor, case)
        if Actor.CLERK not in kinds:
            raise CaseActionForbidden(_("您不是该事项实施部门的受理人员"), code="forbidden")
        data: dict[str, Any] = {"item_version": version.pk, "channel": Channel.WINDOW}
        if walk_in_person is not None:
            data["walk_in_person"] = walk_in_person.pk
        if window_capacity:
            data["capacity"] = window_capacity
        _event(
            case,
            action="draft_created",
            actor=actor,
            actor_kind=Actor.CLERK,
            from_status="",
            data=data,
        )
        slots = _slots(case)
        now = timezone.now()
        for key in dict.fromkeys(received_keys):
            slot = slots.get(key)
            if slot is None:
                raise DomainError(_("该事项没有这项材料"), code="unknown_material")
            CaseMaterial.objects.create(
                case=case,
                slot_key=key,
                name=slot.name,
                source=MaterialSource.PAPER,
                copies=slot.copies,
                added_by=clerk,
                status=MaterialStatus.ACCEPTED,
                checked_by=clerk,
                checked_at=now,
            )
        _submit(case, actor, require_materials=False)
        if accept:
            _accept(
                case, actor, tolerances=tolerances, instant=version.case_kind == CaseKind.INSTANT
            )
    return case


def claim_walk_in_cases(*, walk_in_person: Any, user: Any) -> int:
    """The walk-in's cases become ``user``'s (identity calls this while it claims the
    ``WalkInPerson`` for the account that verified the same ID number; inside that
    transaction, not durable). A person's case gets ``user`` as applicant and acting person,
    an enterprise's case as acting person (the agent). Each moved case gets a public
    ``claimed`` event and its audit record; a case already bound to an account is left as it
    is. Returns how many cases moved."""
    moved = 0
    cases = (
        Case.objects.select_for_update(of=("self",))
        .filter(walk_in_person=walk_in_person)
        .order_by("pk")
    )
    for case in cases:
        changes: dict[str, Any] = {}
        if case.acting_user_id is None:
            changes["acting_user"] = user
        if case.enterprise_id is None and case.applicant_user_id is None:
            changes["applicant_user"] = user
        if not changes:
            continue
        for name, value in changes.items():
            setattr(case, name, value)
        case.save(update_fields=[*changes, "updated_at"])
        _event(
            case,
            action="claimed",
            actor=CaseActor.of(user),
            actor_kind=Actor.APPLICANT,
            from_status=case.status,
            data={"walk_in_person": walk_in_person.pk, "fields": sorted(changes)},
        )
        moved += 1
    return moved


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


# --- beat tasks: Art. 32 and SLA warnings ----------------------------------------------------


def apply_case_deadlines(*, batch: int = 500) -> dict[str, int]:
    """Art. 32 deemed acceptance and expired supplement periods (idempotent, beat task)."""
    now = timezone.now()
    deemed = expired = 0
    due_ids = list(
        Case.objects.filter(
            status__in=TRANSITIONS[CaseAction.DEEM_ACCEPTED].sources,
            supplement_notice_due__lt=now,
        )
        .order_by("supplement_notice_due")
        .values_list("pk", flat=True)[:batch]
    )
    for case_id in due_ids:
        if deem_case_accepted(case_id=case_id) is not None:
            deemed += 1
    expiring = list(
        Case.objects.filter(
            status=CaseStatus.AWAITING_SUPPLEMENT,
            supplement_notices__fulfilled_at__isnull=True,
            supplement_notices__due_at__lt=now,
        )
        .values_list("pk", flat=True)
        .distinct()[:batch]
    )
    for case_id in expiring:
        if expire_supplement(case_id=case_id) is not None:
            expired += 1
    lapsing = list(
        ToleranceCommitment.objects.filter(
            fulfilled_at__isnull=True,
            lapsed_at__isnull=True,
            due_at__lt=now,
            case__status__in=_TOLERANCE_STATES,
        )
        .order_by("due_at", "pk")
        .values_list("pk", flat=True)[:batch]
    )
    lapsed = sum(1 for pk in lapsing if lapse_tolerance(commitment_id=pk) is not None)
    if deemed or expired or lapsed:
        logger.info(
            "cases.deadlines_applied",
            extra={"deemed": deemed, "expired": expired, "tolerance_lapsed": lapsed},
        )
    return {"deemed_accepted": deemed, "supplement_expired": expired, "tolerance_lapsed": lapsed}


def recompute_deadlines_for_year(*, year: int, actor: Any | None) -> int:
    """The calendar of ``year`` changed (its arrangement was loaded): recompute the deadline of
    every case whose clock runs into or across that year (issue 15 §4).

    Called by ``apps.core.services`` inside its transaction, with the new calendar in force.
    Each changed deadline gets a public ``deadline_recomputed`` event (with its audit record)
    and, after commit, a notice to the case's clerks and department. Idempotent: a deadline
    that does not move is left alone. Returns the number of deadlines changed.
    """
    year_start = calendar.end_of_day(date(year - 1, 12, 31))
    year_end = calendar.end_of_day(date(year, 12, 31))
    candidates = list(
        Case.objects.filter(
            status__in=list(CLOCK_STATES),
            accepted_at__isnull=False,
            promised_days__isnull=False,
            accepted_at__lte=year_end,
            deadline__gt=year_start,
        )
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    who = CaseActor.of(actor) if actor is not None else CaseActor.system()
    changed = 0
    for case_id in candidates:
        case = _lock(case_id)
        new = _deadline(case)
        if new == case.deadline:
            continue
        before = case.deadline
        case.deadline = new
        case.save(update_fields=["deadline", "updated_at"])
        event = _event(
            case,
            action="deadline_recomputed",
            actor=who,
            actor_kind=Actor.SYSTEM,
            from_status=case.status,
            note=_("%(year)d 年放假安排已发布，承诺办结日期重新计算") % {"year": year},
            data={"year": year, "before": before, "after": new},
        )
        transaction.on_commit(partial(_notify_deadline_rollback_safe, event.pk))
        changed += 1
    if changed:
        logger.info("cases.deadlines_recomputed", extra={"year": year, "changed": changed})
    return changed


def _notify_deadline_rollback_safe(event_id: int) -> None:
    from apps.cases.tasks import notify_deadline_recomputed

    notify_deadline_recomputed.delay(event_id)


def notify_deadline_recomputed(*, event_id: int) -> int:
    """Tell the case's clerks and department that its deadline moved (站内消息, once per event:
    a retried task notifies nobody twice). Returns notices created."""
    from django.urls import reverse

    from apps.notifications.services import notify_users

    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None:
        return 0
    case = event.case
    return notify_users(
        recipients=sla_warning_recipients(case),
        key=f"cases.deadline_recomputed:{event.pk}",
        kind="cases.deadline_recomputed",
        title=_("办件 %(number)s 的承诺办结日期已重新计算") % {"number": case.number},
        body=_("%(year)s 年放假安排已发布：%(before)s → %(after)s")
        % {
            "year": event.data.get("year"),
            "before": str(event.data.get("before", ""))[:10],
            "after": f"{timezone.localtime(case.deadline):%Y-%m-%d}" if case.deadline else "",
        },
        url=reverse("office-cases:case", args=[case.pk]),
    )


def lapse_tolerance(*, commitment_id: int) -> ToleranceCommitment | None:
    """容缺受理: the committed material did not arrive by its deadline (beat task; idempotent).

    Records a public timeline entry (with its audit event), flags the case
    (``Case.tolerance_lapsed``: the office queue and case screen show it, and no grant is
    possible until the material arrives) and notifies the applicant and the case's clerks.
    """
    with transaction.atomic(durable=True):
        case_id = (
            ToleranceCommitment.objects.filter(pk=commitment_id)
            .values_list("case_id", flat=True)
            .first()
        )
        if case_id is None:
            return None
        case = _lock(case_id)
        commitment = case.tolerances.get(pk=commitment_id)
        if (
            commitment.fulfilled_at is not None
            or commitment.lapsed_at is not None
            or timezone.now() <= commitment.due_at
            or case.status not in _TOLERANCE_STATES
        ):
            return None
        commitment.lapsed_at = timezone.now()
        commitment.save(update_fields=["lapsed_at", "updated_at"])
        case.tolerance_lapsed = True
        case.save(update_fields=["tolerance_lapsed", "updated_at"])
        _event(
            case,
            action="tolerance_lapsed",
            actor=CaseActor.system(),
            actor_kind=Actor.SYSTEM,
            from_status=case.status,
            note=_("容缺材料“%(name)s”逾期未补齐（信用承诺期限 %(due)s）")
            % {"name": commitment.name, "due": f"{timezone.localtime(commitment.due_at):%Y-%m-%d}"},
            data={"tolerance_id": commitment.pk, "slot": commitment.slot_key},
        )
        transaction.on_commit(partial(_notify_tolerance_lapsed, commitment.pk))
    return commitment


def _notify_tolerance_lapsed(commitment_id: int) -> None:
    from django.urls import reverse

    from apps.notifications.services import notify_users

    commitment = ToleranceCommitment.objects.select_related("case").get(pk=commitment_id)
    case = commitment.case
    title = _("办件 %(number)s 容缺材料逾期未补齐") % {"number": case.number}
    body = _("请尽快补齐“%(name)s”。") % {"name": commitment.name}
    key = f"cases.tolerance_lapsed:{commitment.pk}"
    notify_users(
        recipients=[case.applicant_user_id, case.acting_user_id],
        key=key,
        kind="cases.tolerance_lapsed",
        title=title,
        body=body,
        url=reverse("cases:detail", args=[case.pk]),
    )
    notify_users(
        recipients=sla_warning_recipients(case),
        key=key,
        kind="cases.tolerance_lapsed",
        title=title,
        body=body,
        url=reverse("office-cases:case", args=[case.pk]),
    )


def raise_sla_warnings(*, batch: int = 2000) -> dict[str, int]:
    """Raise yellow/red warnings once per (case, level) (idempotent, beat task).

    Only cases whose clock runs are scanned, only those whose deadline falls within the yellow
    threshold, and never a (case, level) pair already warned: a red case is out of the scan
    for good, a yellow one comes back only once it is overdue by the red threshold. So however
    many cases are already warned, every batch holds only cases that still need a warning.
    """
    from django.db.models import Exists, OuterRef, Q

    from apps.cases.constants import SlaLevel

    now = timezone.now()
    horizon = calendar.working_deadline(now, sla.yellow_threshold())
    warned = {
        level: Exists(SlaWarning.objects.filter(case_id=OuterRef("pk"), level=level))
        for level in (SlaLevel.YELLOW, SlaLevel.RED)
    }
    red_now = (
        Q(deadline__lt=now) if sla.red_threshold() == 0 else Q(deadline__lte=sla.red_cutoff(now))
    )
    candidates = (
        Case.objects.filter(
            status__in=[CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW], deadline__lte=horizon
        )
        .filter(~warned[SlaLevel.RED])
        .filter(red_now | ~warned[SlaLevel.YELLOW])
        .only(
            "pk",
            "accepted_at",
            "promised_days",
            "extension_days",
            "paused_days",
            "paused_since",
            "deadline",
            "number",
            "department_id",
        )
        .order_by("deadline", "pk")[:batch]
    )
    raised = {"yellow": 0, "red": 0}
    for case in candidates:
        clock = case_clock(case)
        if clock is None:
            continue
        level = sla.warning_level(clock, now)
        if level is None:
            continue
        with transaction.atomic(durable=True):
            locked = _lock(case.pk)
            if locked.status not in (CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW):
                continue
            warning, created = SlaWarning.objects.get_or_create(
                case=locked,
                level=level,
                defaults={"deadline": locked.deadline, "days_left": sla.days_left(clock, now)},
            )
            if not created:
                continue
            raised[level] += 1
            # Internal timeline entry (not shown to the applicant) + audit, like any event.
            _event(
                locked,
                action="sla_warning",
                actor=CaseActor.system(),
                actor_kind=Actor.SYSTEM,
                from_status=locked.status,
                data={"level": level, "days_left": warning.days_left},
                is_public=False,
            )
            transaction.on_commit(partial(_notify_warning_rollback_safe, warning.pk))
    return raised


def _notify_warning_rollback_safe(warning_id: int) -> None:
    from apps.cases.tasks import notify_sla_warning

    notify_sla_warning.delay(warning_id)


def notify_case_event(*, event_id: int) -> None:
    """Tell the people concerned about a timeline event.

    HOOK for the notifications app (not built yet): for now this logs the event with the
    recipients' ids (no personal data, STYLE.md N5). Idempotent.
    """
    event = CaseEvent.objects.select_related("case").filter(pk=event_id).first()
    if event is None or not event.is_public:
        return
    case = event.case
    notify_walk_in_by_sms(event)
    from apps.cases.notices import notify_case_event as tell_applicant

    tell_applicant(event)
    logger.info(
        "case.notify",
        extra={
            "event_id": event.pk,
            "case_id": case.pk,
            "action": event.action,
            "to_status": event.to_status,
            "applicant_user_id": case.applicant_user_id,
            "acting_user_id": case.acting_user_id,
            "department_id": case.department_id,
        },
    )


# Timeline events a person served at the window without an account is told of by SMS.
WALK_IN_SMS_ACTIONS = {
    CaseAction.ACCEPT: gettext_lazy("已受理"),
    CaseAction.ACCEPT_INSTANT: gettext_lazy("已受理并办结"),
    CaseAction.REQUEST_SUPPLEMENT: gettext_lazy("需要补正材料"),
    CaseAction.REJECT: gettext_lazy("不予受理"),
    CaseAction.DECIDE: gettext_lazy("已作出决定"),
    CaseAction.COMPLETE: gettext_lazy("已办结"),
}


def notify_walk_in_by_sms(event: CaseEvent) -> bool:
    """SMS to the contact phone the clerk recorded for a walk-in without an account (the
    person, or the enterprise's agent), until the case is claimed on an account (then the
    account's notices take over). Once per event (a retried task sends nothing twice).
    Returns whether a message was sent."""
    from django.core.cache import cache

    from apps.identity.models import WalkInPerson
    from apps.notifications.sms import send_sms

    case = event.case
    label = WALK_IN_SMS_ACTIONS.get(event.action)
    if label is None or case.walk_in_person_id is None or case.acting_user_id is not None:
        return False
    person = WalkInPerson.objects.filter(pk=case.walk_in_person_id).first()
    if person is None or not person.phone:
        return False
    if not cache.add(f"cases:walk-in-sms:{event.pk}", 1, timeout=7 * 24 * 3600):
        return False
    text = _(
        "【江西政务服务】您在窗口申请的“%(item)s”（办件编号%(number)s）%(what)s。"
        "用本人身份证号码注册并实名认证后，可在“我的办件”查看详情。"
    ) % {"item": case.item_version.name, "number": case.number, "what": label}
    send_sms(to=person.phone, text=text)
    logger.info("case.walk_in_sms_sent", extra={"event_id": event.pk, "case_id": case.pk})
    return True


def sla_warning_recipients(case: Case) -> list[int]:
    """Who hears of a warning: the case's clerks (clerks of its hall for a walk-in case, the
    department's clerks for an online one, and whoever accepted it) and the department
    (its department admins and reviewers). Active staff only."""
    from apps.identity.constants import StaffRole
    from apps.identity.models import StaffMembership

    staff = StaffMembership.objects.filter(
        department_id=case.department_id, is_active=True, user__is_active=True
    )
    clerks = staff.filter(role=StaffRole.CLERK)
    if case.hall_id is not None:
        clerks = clerks.filter(hall_id=case.hall_id)
    department = staff.filter(role__in=[StaffRole.DEPT_ADMIN, StaffRole.REVIEWER])
    ids = set(clerks.values_list("user_id", flat=True))
    ids |= set(department.values_list("user_id", flat=True))
    if case.accepted_by_id is not None and staff.filter(user_id=case.accepted_by_id).exists():
        ids.add(case.accepted_by_id)
    return sorted(ids)


def notify_sla_warning(*, warning_id: int) -> int:
    """Tell the case's clerks and the department about a warning (站内消息, once per
    (recipient, case, level): a retried task notifies nobody twice). Returns notices created."""
    from django.urls import reverse

    from apps.notifications.services import notify_users

    warning = SlaWarning.objects.select_related("case").filter(pk=warning_id).first()
    if warning is None:
        return 0
    case = warning.case
    if warning.level == "red":
        title = _("办件 %(number)s 已超期") % {"number": case.number}
    else:
        title = _("办件 %(number)s 即将超期") % {"number": case.number}
    body = _("承诺办结日期：%(deadline)s；剩余工作日：%(days)s") % {
        "deadline": f"{timezone.localtime(warning.deadline):%Y-%m-%d}",
        "days": warning.days_left,
    }
    created = notify_users(
        recipients=sla_warning_recipients(case),
        key=f"cases.sla_warning:{case.pk}:{warning.level}",
        kind="cases.sla_warning",
        title=title,
        body=body,
        url=reverse("office-cases:case", args=[case.pk]),
    )
    logger.warning(
        "case.sla_warning",
        extra={
            "warning_id": warning.pk,
            "case_id": warning.case_id,
            "sla_level": warning.level,
            "department_id": case.department_id,
            "days_left": warning.days_left,
            "notified": created,
        },
    )
    return created
