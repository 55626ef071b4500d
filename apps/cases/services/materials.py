"""Materials: uploads, licences from the wallet, shared data, and the clerk's checks."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.cases.constants import (
    Actor,
    CaseStatus,
    MaterialSource,
    MaterialStatus,
)
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.materials import resolve_licence
from apps.cases.models import (
    Case,
    CaseMaterial,
    ToleranceCommitment,
)
from apps.cases.permissions import CaseActor, actor_kinds
from apps.cases.services._base import _KIND_ORDER, _event, _lock, _slots
from apps.core import uploads
from apps.core.exceptions import DomainError

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
