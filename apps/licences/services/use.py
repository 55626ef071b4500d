"""Use (用证, DOMAIN.md §3.6): the material resolver, authorisations, reads with a purpose, 亮证."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.cases.materials import LicenceReference
from apps.cases.models import Case
from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.identity.models import Enterprise
from apps.licences.constants import (
    LicenceStatus,
)
from apps.licences.identifiers import parse_identifier
from apps.licences.models import (
    Licence,
    LicenceUse,
    UseAuthorisation,
    VerificationToken,
)
from apps.licences.selectors import token_digest
from apps.licences.services.common import (
    PURPOSE_MAX,
    LicenceActor,
)


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
    from apps.licences.selectors import can_open_enterprise_wallet

    grant = (
        UseAuthorisation.objects.select_for_update(of=("self",))
        .select_related("holder_enterprise")
        .filter(pk=authorisation_id)
        .first()
    )
    allowed = grant is not None and (
        grant.granted_by_id == user.pk
        or grant.holder_user_id == user.pk
        or (
            grant.holder_enterprise is not None
            and can_open_enterprise_wallet(user, grant.holder_enterprise)
        )
    )
    if grant is None or not allowed:
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
