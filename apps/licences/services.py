"""Every write of the licences app: issue, change/renew, status actions, expiry, use, tokens.

Each entry service is ``@transaction.atomic(durable=True)``; helpers (``_issue``, ``_transition``)
run inside the caller's transaction so the decision hook can issue within the decision.
Every state change appends to ``LicenceStatusChange`` and writes an audit event (STYLE.md S4).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from jsonschema import Draft202012Validator, FormatChecker

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases.hooks import DecisionEvent
from apps.cases.materials import LicenceReference
from apps.cases.models import Case
from apps.cases.services import record_result_licence
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.identity.models import ApiClient, Enterprise
from apps.identity.pii import blind_index
from apps.licences.catalogue import invalidate_catalogue
from apps.licences.constants import (
    DEFAULT_LEGAL_BASIS,
    MANUAL_ACTIONS,
    NEEDS_LEGAL_BASIS,
    TRANSITIONS,
    HolderCodeType,
    HolderKind,
    LicenceAction,
    LicenceStatus,
    ValidityRule,
)
from apps.licences.identifiers import build_identifier, new_serial, parse_identifier
from apps.licences.models import (
    Licence,
    LicenceStatusChange,
    LicenceType,
    LicenceUse,
    UseAuthorisation,
    VerificationRecord,
    VerificationToken,
)
from apps.licences.selectors import token_digest

logger = logging.getLogger(__name__)

PURPOSE_MAX = 200


@dataclass(frozen=True)
class LicenceActor:
    """Who acts on a licence: a person (holder, clerk), a department's API client, or the system.
    ``department`` is the department the actor acts for (a clerk's or the client's)."""

    user: Any | None = None
    client: ApiClient | None = None
    department: Department | None = None

    @classmethod
    def system(cls) -> LicenceActor:
        return cls()

    @classmethod
    def of_user(cls, user: Any, department: Department | None = None) -> LicenceActor:
        return cls(user=user, department=department)

    @classmethod
    def of_client(cls, client: ApiClient) -> LicenceActor:
        return cls(client=client, department=client.department)

    @property
    def label(self) -> str:
        if self.client is not None:
            return f"{self.client.department.name}（{self.client.application.name}）"
        if self.user is not None:
            name = getattr(self.user, "display_name", "") or self.user.get_username()
            if self.department is not None:
                return f"{self.department.name}（{name}）"
            return str(name)
        return "系统"


def holder_code_index(code: str) -> str:
    return blind_index(code, purpose="licence_holder_code")


# --- validation helpers ------------------------------------------------------------------


def validate_face_data(licence_type: LicenceType, face_data: Mapping[str, Any]) -> dict[str, Any]:
    """Face data (照面信息) checked against the type's template; Chinese error naming the field."""
    if not isinstance(face_data, Mapping):
        raise DomainError(_("照面信息格式不正确"), code="face_data_invalid")
    data = {k: v for k, v in face_data.items() if v not in (None, "")}
    validator = Draft202012Validator(licence_type.face_schema(), format_checker=FormatChecker())
    labels = {f["key"]: f["label"] for f in licence_type.face_fields}
    errors = sorted(validator.iter_errors(data), key=lambda e: list(e.path))
    if errors:
        error = errors[0]
        if error.validator == "required":
            missing = next(k for k in error.validator_value if k not in data)
            message = _("照面信息缺少“%(field)s”") % {"field": labels.get(missing, missing)}
        elif error.validator == "additionalProperties":
            extra = sorted(set(data) - set(labels))
            message = _("照面信息含有模板之外的项目：%(fields)s") % {"fields": "、".join(extra)}
        else:
            key = str(error.path[0]) if error.path else ""
            message = _("照面信息“%(field)s”的值不正确") % {"field": labels.get(key, key)}
        raise DomainError(message, code="face_data_invalid")
    return data


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February into a common year
        return day.replace(year=day.year + years, day=28)


def _validity(
    licence_type: LicenceType, valid_from: date, valid_until: date | None, *, explicit: bool
) -> date | None:
    if licence_type.validity_rule == ValidityRule.LONG_TERM:
        if valid_until is not None:
            raise DomainError(_("该类证照长期有效，不能填写截止日期"), code="validity_invalid")
        return None
    if valid_until is None and not explicit:
        years = licence_type.validity_years or 1
        valid_until = _add_years(valid_from, years) - timedelta(days=1)
    if valid_until is None:
        raise DomainError(_("该类证照须填写有效期截止日期"), code="validity_invalid")
    if valid_until < valid_from:
        raise DomainError(_("有效期截止日期不能早于起始日期"), code="validity_invalid")
    return valid_until


@dataclass(frozen=True)
class Holder:
    kind: str
    code_type: str
    code: str
    name: str
    user: Any | None = None
    enterprise: Enterprise | None = None


def holder_of(*, licence_type: LicenceType, user: Any = None, enterprise: Any = None) -> Holder:
    """The 持证主体 from the identity app's records, matching the type's holder kind."""
    if licence_type.holder_kind == HolderKind.PERSON:
        person = getattr(user, "person", None) if user is not None else None
        if person is None or not person.id_number:
            raise DomainError(
                _("持证人未完成实名认证，无法签发自然人证照"), code="holder_not_identified"
            )
        return Holder(
            HolderKind.PERSON, HolderCodeType.RESIDENT_ID, person.id_number, person.name, user=user
        )
    if enterprise is None:
        raise DomainError(_("该类证照的持证主体应为法人"), code="holder_kind_mismatch")
    return Holder(
        licence_type.holder_kind,
        HolderCodeType.USCC,
        enterprise.uscc,
        enterprise.name,
        enterprise=enterprise,
    )


def _audit(actor: LicenceActor, action: str, licence: Licence, **data: Any) -> None:
    record_audit_event(
        actor=actor.user,
        action=f"licences.{action}",
        obj=licence,
        data={
            "identifier": licence.identifier,
            "status": licence.status,
            "department_id": getattr(actor.department, "pk", None),
            "client_id": getattr(actor.client, "pk", None),
            **data,
        },
    )


def _history(
    licence: Licence,
    *,
    action: str,
    from_status: str,
    actor: LicenceActor,
    reason: str,
    legal_basis: str = "",
    related: Licence | None = None,
) -> LicenceStatusChange:
    change = LicenceStatusChange(
        licence=licence,
        action=action,
        from_status=from_status,
        to_status=licence.status,
        reason=reason[:500],
        legal_basis=legal_basis[:500],
        occurred_at=licence.status_changed_at,
        actor_user=actor.user,
        actor_department=actor.department,
        actor_label=actor.label[:200],
        related=related,
    )
    change.save()
    return change


def _check_issuer(licence_type: LicenceType, issuer: Department, actor: LicenceActor) -> None:
    if actor.department is not None and actor.department.pk != issuer.pk:
        raise DomainError(_("只能以本部门名义签发或变更证照"), code="not_issuer")
    if not licence_type.is_active:
        raise DomainError(_("该证照类型已停用"), code="licence_type_inactive")


# --- issue ---------------------------------------------------------------------------------


def _issue(
    *,
    licence_type: LicenceType,
    issuer: Department,
    holder: Holder,
    face_data: Mapping[str, Any],
    actor: LicenceActor,
    number: str = "",
    serial: str = "",
    version: int = 1,
    valid_from: date | None = None,
    valid_until: date | None = None,
    explicit_until: bool = False,
    case: Any = None,
    predecessor: Licence | None = None,
    action: str = LicenceAction.ISSUE,
    reason: str = "",
) -> Licence:
    """Create one licence version (helper: runs in the caller's transaction)."""
    _check_issuer(licence_type, issuer, actor)
    face = validate_face_data(licence_type, face_data)
    today = timezone.localdate()
    valid_from = valid_from or today
    until = _validity(licence_type, valid_from, valid_until, explicit=explicit_until)
    serial = serial or new_serial()
    ident = build_identifier(
        type_code=licence_type.code, issuer_code=issuer.uscc, serial=serial, version=version
    )
    index = holder_code_index(holder.code)
    exclusive = not licence_type.allows_multiple
    if (
        exclusive
        and Licence.objects.valid()
        .filter(
            licence_type=licence_type,
            holder_code_type=holder.code_type,
            holder_code_index=index,
        )
        .exists()
    ):
        raise DomainError(
            _("持证主体已持有有效的%(name)s，请办理变更或延续") % {"name": licence_type.name},
            code="licence_already_held",
        )
    licence = Licence(
        licence_type=licence_type,
        identifier=str(ident),
        serial=serial,
        version=version,
        number=number or serial,
        name=licence_type.name,
        issuer=issuer,
        issuer_code=issuer.uscc,
        jurisdiction_code=issuer.region.code if issuer.region_id else "",
        holder_kind=holder.kind,
        holder_code_type=holder.code_type,
        holder_name=holder.name,
        holder_code=holder.code,
        holder_code_index=index,
        holder_user=holder.user,
        holder_enterprise=holder.enterprise,
        issued_on=today,
        valid_from=valid_from,
        valid_until=until,
        face_data=face,
        status=LicenceStatus.VALID,
        status_changed_at=timezone.now(),
        exclusive=exclusive,
        predecessor=predecessor,
        case=case,
    )
    try:
        with transaction.atomic():
            licence.save()
    except IntegrityError as exc:  # a concurrent issue won the race for the one valid slot
        raise DomainError(
            _("持证主体已持有有效的%(name)s，请办理变更或延续") % {"name": licence_type.name},
            code="licence_already_held",
        ) from exc
    _history(
        licence,
        action=action,
        from_status="",
        actor=actor,
        reason=reason or str(LicenceAction(action).label),
        related=predecessor,
    )
    _audit(actor, action, licence, type_code=licence_type.code, version=version)
    return licence


@transaction.atomic(durable=True)
def issue_licence(
    *,
    type_code: str,
    issuer: Department,
    actor: LicenceActor,
    holder_user: Any = None,
    holder_enterprise: Any = None,
    face_data: Mapping[str, Any],
    number: str = "",
    serial: str = "",
    valid_from: date | None = None,
    valid_until: date | None = None,
    case: Any = None,
) -> Licence:
    """签发: a new licence (version 001) for a holder known to the identity app.

    Refuses (``DomainError``) an unknown or inactive type, another department's name, face data
    that does not fit the template, and a second valid licence of an exclusive type.
    """
    licence_type = _type(type_code)
    holder = holder_of(licence_type=licence_type, user=holder_user, enterprise=holder_enterprise)
    return _issue(
        licence_type=licence_type,
        issuer=issuer,
        holder=holder,
        face_data=face_data,
        actor=actor,
        number=number,
        serial=serial,
        valid_from=valid_from,
        valid_until=valid_until,
        explicit_until=valid_until is not None,
        case=case,
    )


def _type(type_code: str) -> LicenceType:
    try:
        return LicenceType.objects.get(code=type_code)
    except LicenceType.DoesNotExist as exc:
        raise DomainError(_("证照目录中没有该证照类型"), code="licence_type_unknown") from exc


def _lock(licence_id: int) -> Licence:
    try:
        return (
            Licence.objects.select_for_update()
            .select_related("licence_type", "issuer", "issuer__region")
            .get(pk=licence_id)
        )
    except Licence.DoesNotExist as exc:
        raise DomainError(_("电子证照不存在"), code="not_found") from exc


# --- change / renew ----------------------------------------------------------------------


@transaction.atomic(durable=True)
def change_licence(
    *,
    licence_id: int,
    actor: LicenceActor,
    kind: str = LicenceAction.CHANGE,
    face_data: Mapping[str, Any] | None = None,
    valid_until: date | None = None,
    reason: str,
    case: Any = None,
) -> Licence:
    """变更 / 延续: a new version with the same type, issuer and serial and the version raised;
    the old version turns ``superseded`` and is linked as the new one's predecessor."""
    return _change(
        _lock(licence_id),
        actor=actor,
        kind=kind,
        face_data=face_data,
        valid_until=valid_until,
        reason=reason,
        case=case,
    )


def _change(
    old: Licence,
    *,
    actor: LicenceActor,
    kind: str,
    face_data: Mapping[str, Any] | None,
    valid_until: date | None,
    reason: str,
    case: Any,
) -> Licence:
    """Helper of ``change_licence`` on a locked licence (also used by the decision hook)."""
    if kind not in (LicenceAction.CHANGE, LicenceAction.RENEW):
        raise DomainError(_("不支持的操作"), code="illegal_action")
    if not reason.strip():
        raise DomainError(_("请填写变更或延续的原因"), code="reason_required")
    if old.status != LicenceStatus.VALID:
        raise DomainError(_("只有有效的证照可以变更或延续"), code="illegal_transition")
    _check_issuer(old.licence_type, old.issuer, actor)
    next_ident = parse_identifier(old.identifier).next_version()
    holder = Holder(
        old.holder_kind,
        old.holder_code_type,
        old.holder_code,
        old.holder_name,
        user=old.holder_user,
        enterprise=old.holder_enterprise,
    )
    new_until = valid_until
    if kind == LicenceAction.CHANGE and valid_until is None:
        new_until = old.valid_until
    # Supersede first: the one-valid-licence constraint holds at every statement. The history
    # row of the old version is written once the new one exists, so it can name its successor.
    from_status = old.status
    old.status = LicenceStatus.SUPERSEDED
    old.status_changed_at = timezone.now()
    old.save(update_fields=["status", "status_changed_at", "updated_at"])
    new = _issue(
        licence_type=old.licence_type,
        issuer=old.issuer,
        holder=holder,
        face_data=old.face_data if face_data is None else face_data,
        actor=actor,
        number=old.number,
        serial=next_ident.serial,
        version=next_ident.version,
        valid_from=timezone.localdate() if kind == LicenceAction.RENEW else old.valid_from,
        valid_until=new_until,
        explicit_until=kind == LicenceAction.CHANGE and old.valid_until is not None,
        case=case,
        predecessor=old,
        action=kind,
        reason=reason,
    )
    _history(
        old,
        action=LicenceAction.SUPERSEDE,
        from_status=from_status,
        actor=actor,
        reason=reason,
        related=new,
    )
    _audit(actor, LicenceAction.SUPERSEDE, old, successor=new.identifier)
    return new


# --- status actions ------------------------------------------------------------------------


def _transition(
    licence: Licence,
    action: str,
    *,
    actor: LicenceActor,
    reason: str,
    legal_basis: str = "",
) -> Licence:
    sources, target = TRANSITIONS[action]
    if licence.status not in sources:
        raise DomainError(
            _("证照当前状态为“%(status)s”，不能%(action)s")
            % {"status": licence.get_status_display(), "action": LicenceAction(action).label},
            code="illegal_transition",
        )
    if target == LicenceStatus.VALID and licence.exclusive:
        clash = (
            Licence.objects.valid()
            .filter(
                licence_type_id=licence.licence_type_id,
                holder_code_type=licence.holder_code_type,
                holder_code_index=licence.holder_code_index,
            )
            .exclude(pk=licence.pk)
            .exists()
        )
        if clash:
            raise DomainError(
                _("持证主体已有另一份有效的同类证照，不能恢复"), code="licence_already_held"
            )
    from_status = licence.status
    licence.status = target
    licence.status_changed_at = timezone.now()
    licence.save(update_fields=["status", "status_changed_at", "updated_at"])
    _history(
        licence,
        action=action,
        from_status=from_status,
        actor=actor,
        reason=reason,
        legal_basis=legal_basis,
    )
    _audit(actor, action, licence, from_status=from_status)
    return licence


@transaction.atomic(durable=True)
def change_licence_status(
    *, licence_id: int, actor: LicenceActor, action: str, reason: str, legal_basis: str = ""
) -> Licence:
    """注销 / 撤销 / 撤回 / 吊销 / 挂失冻结 / 解除: by the issuing department only, with a reason
    (and a legal basis for the four final ones; the usual article is the default)."""
    if action not in MANUAL_ACTIONS:
        raise DomainError(_("不支持的操作"), code="illegal_action")
    reason = (reason or "").strip()
    if not reason:
        raise DomainError(_("请填写原因"), code="reason_required")
    if action in NEEDS_LEGAL_BASIS:
        legal_basis = (legal_basis or "").strip() or DEFAULT_LEGAL_BASIS[action]
    licence = _lock(licence_id)
    if actor.department is not None and actor.department.pk != licence.issuer_id:
        raise DomainError(_("只能处理本部门签发的证照"), code="not_issuer")
    return _transition(licence, action, actor=actor, reason=reason, legal_basis=legal_basis)


@transaction.atomic(durable=True)
def expire_licences(*, today: date | None = None, limit: int = 1000) -> int:
    """Turn valid licences whose term has ended into ``expired`` (beat task; idempotent)."""
    today = today or timezone.localdate()
    rows = list(
        Licence.objects.select_for_update(skip_locked=True)
        .filter(status=LicenceStatus.VALID, valid_until__lt=today)
        .order_by("pk")[:limit]
    )
    for licence in rows:
        _transition(
            licence, LicenceAction.EXPIRE, actor=LicenceActor.system(), reason=_("有效期届满")
        )
    return len(rows)


# --- the decision hook (apps.cases.hooks) -----------------------------------------------------


def _face_from_case(licence_type: LicenceType, holder: Holder, case: Any) -> dict[str, Any]:
    keys = {f["key"] for f in licence_type.face_fields}
    face: dict[str, Any] = {}
    name_key = "XM" if "XM" in keys else "MC"
    if name_key in keys:
        face[name_key] = holder.name
    if "FDDBR" in keys and holder.enterprise is not None:
        face["FDDBR"] = holder.enterprise.legal_rep_name
    if "ZS" in keys and holder.enterprise is not None and holder.enterprise.address:
        face["ZS"] = holder.enterprise.address
    given = (case.result_data or {}).get("licence_face") or {}
    if isinstance(given, Mapping):
        face.update({k: v for k, v in given.items() if k in keys})
    return face


def _held_by_issuer(
    licence_type: LicenceType, holder: Holder, department: Department
) -> Licence | None:
    if licence_type.allows_multiple:
        return None
    return (
        Licence.objects.select_for_update()
        .select_related("licence_type", "issuer", "issuer__region")
        .filter(
            licence_type=licence_type,
            holder_code_type=holder.code_type,
            holder_code_index=holder_code_index(holder.code),
            issuer=department,
            status=LicenceStatus.VALID,
        )
        .first()
    )


def issue_result_licence(event: DecisionEvent) -> None:
    """Decision handler: an approved / partly approved case whose item names a result licence
    type gets its licence in the decision's transaction, recorded on the case.

    A type missing from the catalogue or a holder without real-name identity cannot carry a
    licence: the decision still stands, the case records no licence, and the audit log says why
    (the department then issues through the API once the holder is identified).
    """
    if not event.issues_licence:
        return
    case = event.case
    licence_type = LicenceType.objects.filter(code=event.licence_type).first()
    department = case.department
    actor = LicenceActor(
        user=getattr(event.actor, "user", None),
        client=getattr(event.actor, "client", None),
        department=department,
    )
    try:
        if licence_type is None:
            raise DomainError(_("证照目录中没有该证照类型"), code="licence_type_unknown")
        holder = holder_of(
            licence_type=licence_type, user=case.applicant_user, enterprise=case.enterprise
        )
        reason = _("办件 %(number)s 准予许可") % {"number": case.number}
        face = _face_from_case(licence_type, holder, case)
        held = _held_by_issuer(licence_type, holder, department)
        with transaction.atomic():
            if held is not None:
                # 换领/延续/变更 of a licence this department issued: a new version of it.
                licence = _change(
                    held,
                    actor=actor,
                    kind=LicenceAction.RENEW,
                    face_data={**held.face_data, **face},
                    valid_until=None,
                    reason=reason,
                    case=case,
                )
            else:
                licence = _issue(
                    licence_type=licence_type,
                    issuer=department,
                    holder=holder,
                    face_data=face,
                    actor=actor,
                    number=case.number or "",
                    case=case,
                    reason=reason,
                )
    except DomainError as exc:
        logger.warning("licences.result_not_issued", extra={"case_id": case.pk, "code": exc.code})
        record_audit_event(
            actor=actor.user,
            action="licences.result_not_issued",
            obj=case,
            data={"type_code": event.licence_type, "code": exc.code},
        )
        return
    record_result_licence(
        case=case, identifier=licence.identifier, name=licence.name, valid_until=licence.valid_until
    )


# --- use: the resolver for apps.cases.materials ----------------------------------------------


def _record_use(
    licence: Licence,
    *,
    user: Any,
    department: Department | None,
    label: str,
    purpose: str,
    case: Any,
    basis: str,
    allowed: bool,
    authorisation: Any = None,
) -> LicenceUse:
    use = LicenceUse.objects.create(
        licence=licence,
        holder_user=licence.holder_user,
        holder_enterprise=licence.holder_enterprise,
        user=user,
        department=department,
        user_label=label[:200],
        purpose=purpose[:PURPOSE_MAX],
        case=case,
        basis=basis,
        authorisation=authorisation,
        is_allowed=allowed,
        occurred_at=timezone.now(),
    )
    record_audit_event(
        actor=user,
        action="licences.use" if allowed else "licences.use_refused",
        obj=licence,
        data={"basis": basis, "case_id": getattr(case, "pk", None), "use_id": use.pk},
    )
    return use


def resolve_licence_for_case(
    *, user: Any, enterprise: Any, identifier: str, licence_types: Sequence[str]
) -> LicenceReference:
    """The real licence resolver (``apps.cases.materials``): a material slot is satisfied by a
    valid licence the applicant holds (免提交). The use is logged for the holder."""
    parsed = parse_identifier(identifier)
    if parsed.type_code not in licence_types:
        raise DomainError(_("该电子证照不能替代本材料"), code="licence_type_mismatch")
    licence = Licence.objects.select_related("licence_type").filter(identifier=str(parsed)).first()
    holds = licence is not None and (
        (enterprise is not None and licence.holder_enterprise_id == enterprise.pk)
        or (enterprise is None and licence.holder_user_id == getattr(user, "pk", None))
    )
    if licence is None or not holds:
        # Same answer for "no such licence" and "someone else's": nothing leaks.
        raise DomainError(_("您的卡包中没有该电子证照"), code="licence_not_held")
    if licence.status != LicenceStatus.VALID or (
        licence.valid_until is not None and licence.valid_until < timezone.localdate()
    ):
        raise DomainError(
            _("该电子证照当前不可用（%(status)s）") % {"status": licence.get_status_display()},
            code="licence_not_valid",
        )
    _record_use(
        licence,
        user=user,
        department=None,
        label=_("本人申请办件时使用"),
        purpose=_("申请材料免提交"),
        case=None,
        basis="holder",
        allowed=True,
    )
    return LicenceReference(
        identifier=licence.identifier,
        licence_type=licence.licence_type.code,
        name=licence.name,
        valid_until=licence.valid_until,
    )


# --- verification tokens ---------------------------------------------------------------------

TOKEN_TTL = {
    VerificationToken.Purpose.VERIFY: timedelta(minutes=10),
    VerificationToken.Purpose.SHOW: timedelta(minutes=3),
}


@transaction.atomic(durable=True)
def create_verification_token(
    *, licence_id: int, user: Any, purpose: str = VerificationToken.Purpose.VERIFY
) -> tuple[str, VerificationToken]:
    """A fresh opaque token for the licence's QR (验真) or for 亮证; only its hash is stored.
    The caller must have checked the user may see the licence (selectors.get_licence_for)."""
    token = secrets.token_urlsafe(24)
    row = VerificationToken.objects.create(
        token_hash=token_digest(token),
        licence_id=licence_id,
        purpose=purpose,
        expires_at=timezone.now() + TOKEN_TTL[purpose],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return token, row


@transaction.atomic(durable=True)
def record_access_refused(*, actor: LicenceActor, identifier: str, channel: str) -> None:
    """Audit a refused read (another department's licence, no basis): nothing is shown."""
    record_audit_event(
        actor=actor.user,
        action="licences.access_refused",
        object_type="licences.licence",
        data={
            "identifier": identifier[:128],
            "channel": channel,
            "department_id": getattr(actor.department, "pk", None),
            "client_id": getattr(actor.client, "pk", None),
        },
    )


def record_verification(
    *, licence: Licence | None, channel: str, outcome: str, reason: str
) -> None:
    """Log a verification answer; no verifier data (no IP, no account) is kept."""
    VerificationRecord.objects.create(
        licence=licence, channel=channel, outcome=outcome, reason=reason[:32]
    )


def sync_licence_catalogue() -> int:
    """Add the seed list's types missing from the catalogue (loaddemo; idempotent)."""
    from apps.licences.seed import seed_rows

    created = 0
    for row in seed_rows():
        _obj, was_created = LicenceType.objects.get_or_create(code=row["code"], defaults=row)
        created += int(was_created)
    invalidate_catalogue()
    return created


# --- use with consent (用证, DOMAIN.md §3.6) ---------------------------------------------------


@transaction.atomic(durable=True)
def grant_use_authorisation(
    *,
    user: Any,
    department: Department,
    purpose: str,
    expires_at: Any,
    enterprise: Enterprise | None = None,
    licence: Licence | None = None,
    licence_types: Sequence[str] = (),
) -> UseAuthorisation:
    """The holder (or whoever opens the enterprise's wallet; the caller checked that) lets
    ``department`` read one licence or licences of some types until ``expires_at``."""
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > PURPOSE_MAX:
        raise DomainError(_("请填写用途（不超过200字）"), code="purpose_required")
    if licence is None and not licence_types:
        raise DomainError(_("请选择授权的证照或证照类型"), code="scope_required")
    if expires_at <= timezone.now():
        raise DomainError(_("授权到期时间应晚于现在"), code="expiry_invalid")
    holder = {"holder_enterprise": enterprise} if enterprise else {"holder_user": user}
    if licence is not None and (
        licence.holder_enterprise_id != getattr(enterprise, "pk", None)
        or (enterprise is None and licence.holder_user_id != user.pk)
    ):
        raise DomainError(_("只能授权本人（本单位）的证照"), code="not_holder")
    grant = UseAuthorisation.objects.create(
        **holder,
        department=department,
        licence=licence,
        licence_types=list(licence_types),
        purpose=purpose,
        granted_by=user,
        expires_at=expires_at,
    )
    record_audit_event(
        actor=user,
        action="licences.authorisation_granted",
        obj=grant,
        data={"department_id": department.pk, "licence_id": getattr(licence, "pk", None)},
    )
    return grant


@transaction.atomic(durable=True)
def revoke_use_authorisation(*, authorisation_id: int, user: Any) -> UseAuthorisation:
    grant = UseAuthorisation.objects.select_for_update().get(pk=authorisation_id)
    if grant.granted_by_id != user.pk and grant.holder_user_id != user.pk:
        raise DomainError(_("只能撤销自己作出的授权"), code="not_holder")
    if grant.revoked_at is None:
        grant.revoked_at = timezone.now()
        grant.save(update_fields=["revoked_at", "updated_at"])
        record_audit_event(actor=user, action="licences.authorisation_revoked", obj=grant)
    return grant


def _use_basis(
    licence: Licence, department: Department, case_id: int | None
) -> tuple[str, Any, Any]:
    """("case", case, None) / ("authorisation", None, grant) / ("", None, None)."""

    if case_id is not None:
        holder_filter = (
            {"enterprise_id": licence.holder_enterprise_id}
            if licence.holder_enterprise_id
            else {"applicant_user_id": licence.holder_user_id}
        )
        case = Case.objects.filter(pk=case_id, department=department, **holder_filter).first()
        if case is not None:
            return "case", case, None
    now = timezone.now()
    grants = UseAuthorisation.objects.filter(
        department=department, revoked_at__isnull=True, expires_at__gt=now
    ).filter(
        Q(holder_user_id=licence.holder_user_id)
        if licence.holder_user_id
        else Q(holder_enterprise_id=licence.holder_enterprise_id)
    )
    for grant in grants:
        if grant.licence_id == licence.pk or licence.licence_type.code in grant.licence_types:
            return "authorisation", None, grant
    return "", None, None


def read_licence_for_use(
    *, identifier: str, actor: LicenceActor, purpose: str, case_id: int | None = None
) -> Licence:
    """A clerk or department system reads a licence: only with a stated purpose (申请事由,
    ≤ 200) and a basis — a case of that holder in their department, or the holder's current
    authorisation. Every read is a use record the holder sees; a read without a basis is
    recorded and audited as refused (and raises ``PermissionDenied``)."""
    purpose = (purpose or "").strip()
    if not purpose or len(purpose) > PURPOSE_MAX:
        raise DomainError(_("请填写申请事由（不超过200字）"), code="purpose_required")
    if actor.department is None:
        raise PermissionDenied
    with transaction.atomic(durable=True):
        licence = (
            Licence.objects.select_related("licence_type", "issuer")
            .filter(identifier=identifier.strip())
            .first()
        )
        if licence is None:
            record_audit_event(
                actor=actor.user,
                action="licences.access_refused",
                object_type="licences.licence",
                data={"identifier": identifier[:128], "department_id": actor.department.pk},
            )
            basis, allowed = "", False
        else:
            basis, case, grant = _use_basis(licence, actor.department, case_id)
            allowed = bool(basis)
            _record_use(
                licence,
                user=actor.user,
                department=actor.department,
                label=actor.label,
                purpose=purpose,
                case=case,
                basis=basis or "none",
                allowed=allowed,
                authorisation=grant,
            )
    if licence is None:
        raise Http404
    if not allowed:
        raise PermissionDenied(_("没有用证依据：需要本部门该持证人的办件或持证人的授权"))
    return licence


def open_shown_licence(*, token: str, actor: LicenceActor) -> Licence:
    """亮证: a clerk scans the holder's dynamic QR (a ``show`` token, minutes long) and sees the
    licence; showing it is the holder's consent for this one read, recorded as a use."""
    if actor.department is None:
        raise PermissionDenied
    with transaction.atomic(durable=True):
        row = (
            VerificationToken.objects.select_related("licence", "licence__licence_type")
            .filter(token_hash=token_digest(token), purpose=VerificationToken.Purpose.SHOW)
            .first()
        )
        if row is None or row.expires_at <= timezone.now():
            raise DomainError(_("亮证码无效或已过期，请持证人刷新后重新出示"), code="token_invalid")
        _record_use(
            row.licence,
            user=actor.user,
            department=actor.department,
            label=actor.label,
            purpose=_("持证人亮证，窗口核验"),
            case=None,
            basis="shown",
            allowed=True,
        )
    return row.licence
