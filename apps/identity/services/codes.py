"""Service codes (一人一码 / 一企一码, DOMAIN.md §4.5): issuing and redeeming at the window."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity import service_codes
from apps.identity.models import (
    AgentAuthorisation,
    Enterprise,
    ServiceCode,
    User,
)
from apps.identity.permissions import (
    can_identify_applicants,
)
from apps.identity.selectors import (
    active_authorisation,
    enterprise_capacity,
)
from apps.identity.services.enterprises import _lock_enterprise

# --- service codes (一人一码 / 一企一码, DOMAIN.md §4.5) ---------------------------------------


@dataclass(frozen=True)
class IssuedServiceCode:
    """What the holder's page shows: the typeable code, its QR payload and the expiry."""

    code: str
    display: str
    qr_payload: str
    expires_at: datetime
    enterprise: Enterprise | None


@dataclass(frozen=True)
class IdentifiedHolder:
    """Who stands at the window: the person, and the enterprise they act for (if any).

    ``capacity`` is ``"self"``, ``"legal_rep"``, ``"licence_admin"`` or ``"agent"`` (then
    ``authorisation`` is the authorisation in force). ``service_code_id`` is set when a service
    code identified them, ``None`` for an ID-card check.
    """

    user: User
    enterprise: Enterprise | None = None
    authorisation: AgentAuthorisation | None = None
    capacity: str = "self"
    service_code_id: int | None = None


def _enterprise_capacity(
    user: User, enterprise: Enterprise
) -> tuple[str, AgentAuthorisation | None]:
    capacity = enterprise_capacity(user, enterprise)
    if capacity is not None:
        return capacity, None
    authorisation = active_authorisation(user, enterprise)
    if authorisation is not None:
        return "agent", authorisation
    raise DomainError(_("您当前不能代表该企业办事"), code="cannot_act_for")


@transaction.atomic(durable=True)
def issue_service_code(
    *, user: User, enterprise: Enterprise | int | None = None
) -> IssuedServiceCode:
    """A fresh code for ``user`` (and ``enterprise`` they act for), valid
    ``SERVICE_CODE_TTL_SECONDS``. Codes issued before and still unused stop working."""
    authorisation: AgentAuthorisation | None = None
    if enterprise is not None:
        enterprise = _lock_enterprise(enterprise)
        if not enterprise.is_active:
            raise DomainError(_("该企业不是存续状态"), code="enterprise_inactive")
        _capacity, authorisation = _enterprise_capacity(user, enterprise)
    now = timezone.now()
    ServiceCode.objects.filter(user=user, used_at__isnull=True, expires_at__gt=now).update(
        expires_at=now
    )
    code, random_part = service_codes.new_code()
    row = ServiceCode.objects.create(
        token_hash=service_codes.token_hash(random_part),
        user=user,
        enterprise=enterprise,
        authorisation=authorisation,
        created_at=now,
        expires_at=now + timedelta(seconds=settings.SERVICE_CODE_TTL_SECONDS),
    )
    record_audit_event(
        actor=user,
        action="identity.service_code_issued",
        obj=row,
        data={"enterprise_id": getattr(enterprise, "pk", None)},
    )
    return IssuedServiceCode(
        code=code,
        display=service_codes.display(code),
        qr_payload=service_codes.qr_payload(code),
        expires_at=row.expires_at,
        enterprise=enterprise,
    )


def redeem_service_code(code: str, clerk: User) -> IdentifiedHolder:
    """A window clerk scans or types a holder's code: identify them, once.

    Refused with a Chinese ``DomainError`` when the clerk may not identify applicants
    (``not_clerk``), or the code is forged or mistyped (``code_invalid``), already used
    (``code_used``), expired (``code_expired``), or the enterprise authority behind it has
    ended since (``code_authority_ended``). Consumed with a conditional UPDATE, so two clerks
    racing for one code cannot both succeed.
    """
    if not can_identify_applicants(clerk):
        raise DomainError(_("只有窗口受理人员可以核验服务码"), code="not_clerk")
    random_part = service_codes.verified_random_part(code)
    if random_part is None:
        raise DomainError(
            _("服务码无效：请核对输入，或请申请人刷新后重新出示"), code="code_invalid"
        )
    return _consume_service_code(random_part, clerk)


@transaction.atomic(durable=True)
def _consume_service_code(random_part: str, clerk: User) -> IdentifiedHolder:
    digest = service_codes.token_hash(random_part)
    now = timezone.now()
    consumed = ServiceCode.objects.filter(
        token_hash=digest, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now, redeemed_by=clerk)
    row = (
        ServiceCode.objects.select_related("user__person", "enterprise", "authorisation")
        .filter(token_hash=digest)
        .first()
    )
    if not consumed:
        if row is None:
            raise DomainError(
                _("服务码无效：请核对输入，或请申请人刷新后重新出示"), code="code_invalid"
            )
        if row.used_at is not None:
            raise DomainError(_("该服务码已被使用，请申请人刷新服务码后重新出示"), code="code_used")
        raise DomainError(_("服务码已过期，请申请人刷新服务码后重新出示"), code="code_expired")
    assert row is not None
    if not row.user.is_active:
        raise DomainError(_("该账号已停用"), code="code_authority_ended")
    capacity = "self"
    authorisation = None
    if row.enterprise is not None:
        try:
            capacity, authorisation = _enterprise_capacity(row.user, row.enterprise)
        except DomainError as exc:
            raise DomainError(
                _("持码人已不能代表该企业办事（授权已撤销或到期）"), code="code_authority_ended"
            ) from exc
        if not row.enterprise.is_active:
            raise DomainError(_("该企业不是存续状态"), code="code_authority_ended")
    record_audit_event(
        actor=clerk,
        action="identity.service_code_redeemed",
        obj=row,
        data={
            "holder_id": row.user_id,
            "enterprise_id": row.enterprise_id,
            "capacity": capacity,
            "authorisation_id": getattr(authorisation, "pk", None),
        },
    )
    return IdentifiedHolder(
        user=row.user,
        enterprise=row.enterprise,
        authorisation=authorisation,
        capacity=capacity,
        service_code_id=row.pk,
    )
