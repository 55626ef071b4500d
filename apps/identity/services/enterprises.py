"""Enterprises: binding to the registry, rechecks against it, licence administrators and
agent authorisations."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity import principal
from apps.identity.constants import (
    MAX_LICENCE_ADMINS,
    AssuranceLevel,
    AuthorisationScope,
    EnterpriseRoleKind,
    EnterpriseStatus,
    RevokeReason,
)
from apps.identity.models import (
    AgentAuthorisation,
    Enterprise,
    EnterpriseRole,
    LegalPersonRecord,
    Person,
    User,
)
from apps.identity.services._common import _clean_id, _clean_uscc
from apps.notifications.sms import send_sms

logger = logging.getLogger(__name__)

# --- enterprises ------------------------------------------------------------------------------


def _require_verified(user: User, message: str) -> Person:
    # Read fresh: a cached ``user.person`` may predate a raise in this request.
    person = Person.objects.filter(user=user).first()
    if person is None or person.assurance_level < AssuranceLevel.L2:
        raise DomainError(message, code="needs_l2")
    return person


def _void_authorisations(
    authorisations: Iterable[AgentAuthorisation], *, actor: User | None, reason: str
) -> int:
    now = timezone.now()
    ids = [a.pk for a in authorisations]
    return AgentAuthorisation.objects.filter(pk__in=ids, revoked_at__isnull=True).update(
        revoked_at=now, revoked_by=actor, revoke_reason=reason, updated_at=now
    )


@transaction.atomic(durable=True)
def bind_enterprise(*, user: User, uscc: str) -> Enterprise:
    """Bind the enterprise with credit code ``uscc`` to ``user`` as its legal representative.

    Only if the legal-person registry names this person (name + ID number) as the legal
    representative and the enterprise is 存续 (DOMAIN.md §4.3). If the registry now names a
    different person than the one bound before, the change voids every authorisation and
    licence administrator the previous representative's side had set up.
    """
    uscc = _clean_uscc(uscc)
    person = _require_verified(user, _("请先完成实名核验（L2）后再绑定企业"))
    record = LegalPersonRecord.objects.filter(uscc=uscc).first()
    if record is None:
        raise DomainError(_("法人库中没有该统一社会信用代码"), code="not_in_registry")
    if record.status != EnterpriseStatus.ACTIVE:
        raise DomainError(
            _("该法人在法人库中的状态为“%(status)s”，不能绑定")
            % {"status": record.get_status_display()},
            code="enterprise_inactive",
        )
    if record.legal_rep_id_index != person.id_number_index or record.legal_rep_name != person.name:
        raise DomainError(
            _("法人库登记的法定代表人不是您本人，不能绑定该企业"), code="not_legal_rep"
        )
    enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
    voided = 0
    if enterprise is None:
        enterprise = Enterprise(uscc=uscc)
    elif enterprise.legal_representative_id not in (None, user.pk):
        voided, _ended = _end_roles_under_representative(
            enterprise, actor=user, previous=enterprise.legal_representative
        )
    enterprise.name = record.name
    enterprise.legal_rep_name = record.legal_rep_name
    enterprise.legal_representative = user
    enterprise.status = record.status
    enterprise.address = record.address
    enterprise.registry_record = record
    enterprise.full_clean()
    enterprise.save()
    record_audit_event(
        actor=user,
        action="identity.enterprise_bound",
        obj=enterprise,
        data={"uscc": uscc, "voided_authorisations": voided},
    )
    return enterprise


def _end_roles_under_representative(
    enterprise: Enterprise, *, actor: User | None, previous: User | None = None
) -> tuple[int, int]:
    """Void every active agent authorisation and end every licence administrator role of
    ``enterprise`` (all were granted under the representative who is leaving), and notify the
    people concerned by SMS once the transaction commits. Returns (authorisations, roles)."""
    now = timezone.now()
    authorisations = list(
        enterprise.authorisations.filter(revoked_at__isnull=True).select_for_update()
    )
    roles = list(enterprise.roles.filter(revoked_at__isnull=True).select_for_update())
    voided = _void_authorisations(
        authorisations, actor=actor, reason=RevokeReason.LEGAL_REP_CHANGED
    )
    ended = EnterpriseRole.objects.filter(pk__in=[r.pk for r in roles]).update(
        revoked_at=now, updated_at=now
    )
    for role in roles:
        principal.changed(role.user_id)
    name = enterprise.name
    notices: list[tuple[int, str]] = []
    if previous is not None:
        notices.append(
            (
                previous.pk,
                _(
                    "【江西政务服务】法人库显示%(enterprise)s的法定代表人已变更，您在政务服务平台"
                    "代表该企业办事的权限已终止，该企业的经办人授权和证照管理员同时失效。"
                )
                % {"enterprise": name},
            )
        )
    for authorisation in authorisations:
        if authorisation.expires_at > now:
            notices.append(
                (
                    authorisation.agent_id,
                    _(
                        "【江西政务服务】因%(enterprise)s法定代表人变更，您代表该企业办事的授权"
                        "已失效。如需继续办理，请联系新的法定代表人重新授权。"
                    )
                    % {"enterprise": name},
                )
            )
    for role in roles:
        notices.append(
            (
                role.user_id,
                _("【江西政务服务】因%(enterprise)s法定代表人变更，您的证照管理员身份已终止。")
                % {"enterprise": name},
            )
        )
    _notify_by_sms(notices)
    return voided, ended


def _notify_by_sms(notices: list[tuple[int, str]]) -> None:
    """Send each (user id, text) to the user's registered phone after commit (one SMS per
    distinct text and person; people without a phone on file are skipped)."""
    seen: set[tuple[int, str]] = set()
    unique = [n for n in notices if not (n in seen or seen.add(n))]
    if not unique:
        return
    phones = {
        person.user_id: person.phone
        for person in Person.objects.filter(
            user_id__in={user_id for user_id, _text in unique}, phone__isnull=False
        )
    }
    for user_id, text in unique:
        phone = phones.get(user_id)
        if phone:
            transaction.on_commit(lambda phone=phone, text=text: send_sms(to=phone, text=text))


def _registry_names(record: LegalPersonRecord, person: Person | None) -> bool:
    """Whether the 法人库 record names ``person`` (ID number and name) as legal representative."""
    return (
        person is not None
        and person.id_number_index is not None
        and record.legal_rep_id_index == person.id_number_index
        and record.legal_rep_name == person.name
    )


@dataclass(frozen=True)
class RegistryRecheck:
    """What re-checking one enterprise against the 法人库 found and did."""

    enterprise_id: int
    representative_ended: bool = False
    voided_authorisations: int = 0
    ended_admin_roles: int = 0
    status_changed: bool = False


@transaction.atomic
def recheck_enterprise_against_registry(
    enterprise: Enterprise | int, *, actor: User | None = None, source: str
) -> RegistryRecheck:
    """Compare a bound enterprise with its 法人库 record and follow the registry.

    When the record names someone else as legal representative (DOMAIN.md §4.3), the previous
    representative's role ends (``legal_representative`` is cleared; the successor binds on the
    profile page), every agent authorisation and licence administrator role granted under them
    is voided, the people concerned are told by SMS, and an audit event records it. The
    registry's name, legal-representative name and status are copied too. An enterprise without
    a registry record is left alone (nothing to compare with). Plain ``atomic``: the Django
    admin and the registry sync call it inside their own transaction; ``source`` says which.
    """
    enterprise = _lock_enterprise(enterprise)
    record = LegalPersonRecord.objects.filter(uscc=enterprise.uscc).first()
    if record is None:
        logger.warning(
            "identity.enterprise_not_in_registry", extra={"enterprise_id": enterprise.pk}
        )
        return RegistryRecheck(enterprise_id=enterprise.pk)
    previous: User | None = None
    voided = ended = 0
    if enterprise.legal_representative_id is not None:
        person = Person.objects.filter(user_id=enterprise.legal_representative_id).first()
        if not _registry_names(record, person):
            previous = User.objects.get(pk=enterprise.legal_representative_id)
    status_changed = enterprise.status != record.status
    changed_fields = {
        "name": record.name,
        "legal_rep_name": record.legal_rep_name,
        "status": record.status,
    }
    if previous is None and all(getattr(enterprise, f) == v for f, v in changed_fields.items()):
        return RegistryRecheck(enterprise_id=enterprise.pk)
    if previous is not None:
        voided, ended = _end_roles_under_representative(enterprise, actor=actor, previous=previous)
        enterprise.legal_representative = None
    for field, value in changed_fields.items():
        setattr(enterprise, field, value)
    enterprise.registry_record = record
    enterprise.save()
    if previous is not None:
        record_audit_event(
            actor=actor,
            action="identity.legal_representative_ended",
            obj=enterprise,
            data={
                "uscc": enterprise.uscc,
                "previous_user_id": previous.pk,
                "voided_authorisations": voided,
                "ended_admin_roles": ended,
                "source": source,
            },
        )
    else:
        record_audit_event(
            actor=actor,
            action="identity.enterprise_synced_from_registry",
            obj=enterprise,
            data={"uscc": enterprise.uscc, "status": enterprise.status, "source": source},
        )
    return RegistryRecheck(
        enterprise_id=enterprise.pk,
        representative_ended=previous is not None,
        voided_authorisations=voided,
        ended_admin_roles=ended,
        status_changed=status_changed,
    )


@transaction.atomic(durable=True)
def sync_legal_person_record(
    *,
    uscc: str,
    name: str,
    legal_rep_name: str,
    legal_rep_id_number: str,
    status: str = EnterpriseStatus.ACTIVE,
    address: str | None = None,
    source: str = "registry_sync",
) -> RegistryRecheck | None:
    """The 法人库 sync: store the registry's current data for ``uscc`` (insert or update) and
    re-check the enterprise bound to it (``recheck_enterprise_against_registry``). Returns the
    recheck, or ``None`` when no enterprise with that code is bound on the portal."""
    uscc = _clean_uscc(uscc)
    legal_rep_id_number = _clean_id(legal_rep_id_number)
    if status not in EnterpriseStatus.values:
        raise DomainError(_("法人状态无效"), code="invalid_status")
    record = LegalPersonRecord.objects.select_for_update().filter(uscc=uscc).first()
    created = record is None
    if record is None:
        record = LegalPersonRecord(uscc=uscc)
    record.name = name.strip()
    record.legal_rep_name = legal_rep_name.strip()
    record.set_legal_rep_id_number(legal_rep_id_number)
    record.status = status
    if address is not None:
        record.address = address
    record.full_clean()
    record.save()
    logger.info(
        "identity.legal_person_record_synced",
        extra={"record_id": record.pk, "record_created": created},
    )
    enterprise_id = Enterprise.objects.filter(uscc=uscc).values_list("pk", flat=True).first()
    if enterprise_id is None:
        return None
    return recheck_enterprise_against_registry(enterprise_id, source=source)


def recheck_bound_enterprises(*, source: str = "daily_recheck") -> list[RegistryRecheck]:
    """Re-check every enterprise with a bound legal representative against the 法人库, each in
    its own transaction (the nightly beat task). Returns the rechecks that changed something."""
    changed: list[RegistryRecheck] = []
    ids = list(
        Enterprise.objects.filter(legal_representative__isnull=False)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    for enterprise_id in ids:
        with transaction.atomic(durable=True):
            result = recheck_enterprise_against_registry(enterprise_id, source=source)
        if result.representative_ended or result.status_changed:
            changed.append(result)
    return changed


def _is_legal_rep(user: User, enterprise: Enterprise) -> bool:
    return enterprise.legal_representative_id == user.pk


def _is_licence_admin(user: User, enterprise: Enterprise) -> bool:
    return enterprise.roles.filter(
        user=user, role=EnterpriseRoleKind.LICENCE_ADMIN, revoked_at__isnull=True
    ).exists()


def _lock_enterprise(enterprise: Enterprise | int) -> Enterprise:
    pk = enterprise.pk if isinstance(enterprise, Enterprise) else enterprise
    return Enterprise.objects.select_for_update().get(pk=pk)


@transaction.atomic(durable=True)
def add_licence_administrator(
    *, actor: User, enterprise: Enterprise | int, user: User
) -> EnterpriseRole:
    """The legal representative appoints a 证照管理员 (at most five, DOMAIN.md §4.3)."""
    enterprise = _lock_enterprise(enterprise)
    if not _is_legal_rep(actor, enterprise):
        raise DomainError(_("只有法定代表人可以设置证照管理员"), code="not_legal_rep")
    _require_verified(user, _("证照管理员须已完成实名核验"))
    if user.pk == enterprise.legal_representative_id:
        raise DomainError(_("法定代表人无需设置为证照管理员"), code="admin_is_legal_rep")
    active = enterprise.roles.filter(role=EnterpriseRoleKind.LICENCE_ADMIN, revoked_at__isnull=True)
    if active.filter(user=user).exists():
        raise DomainError(_("该人员已是证照管理员"), code="already_admin")
    if active.count() >= MAX_LICENCE_ADMINS:
        raise DomainError(
            _("证照管理员最多%(max)d名") % {"max": MAX_LICENCE_ADMINS}, code="too_many_admins"
        )
    role = EnterpriseRole.objects.create(
        enterprise=enterprise, user=user, role=EnterpriseRoleKind.LICENCE_ADMIN, granted_by=actor
    )
    record_audit_event(
        actor=actor,
        action="identity.licence_admin_added",
        obj=role,
        data={"enterprise_id": enterprise.pk, "user_id": user.pk},
    )
    return role


@transaction.atomic(durable=True)
def remove_licence_administrator(*, actor: User, role_id: int) -> EnterpriseRole:
    """End a licence administrator's role; authorisations they granted are voided with it."""
    role = EnterpriseRole.objects.select_for_update().select_related("enterprise").get(pk=role_id)
    if not _is_legal_rep(actor, role.enterprise):
        raise DomainError(_("只有法定代表人可以移除证照管理员"), code="not_legal_rep")
    if role.revoked_at is not None:
        return role
    role.revoked_at = timezone.now()
    role.save(update_fields=["revoked_at", "updated_at"])
    voided = _void_authorisations(
        role.enterprise.authorisations.filter(granted_by=role.user, revoked_at__isnull=True),
        actor=actor,
        reason=RevokeReason.GRANTOR_REMOVED,
    )
    record_audit_event(
        actor=actor,
        action="identity.licence_admin_removed",
        obj=role,
        data={"enterprise_id": role.enterprise_id, "voided_authorisations": voided},
    )
    return role


def default_authorisation_expiry() -> datetime:
    return timezone.now() + timedelta(days=settings.AGENT_AUTHORISATION_DEFAULT_DAYS)


@transaction.atomic(durable=True)
def grant_agent_authorisation(
    *,
    actor: User,
    enterprise: Enterprise | int,
    agent: User,
    scope: str,
    item_codes: Iterable[str] = (),
    expires_at: datetime | None = None,
) -> AgentAuthorisation:
    """The legal representative or a licence administrator authorises an agent (经办人).

    ``scope`` is ``all`` (全业务) or ``items`` (精准授权, ``item_codes`` = implementation or
    basic codes). The agent must be real-name verified. ``expires_at`` defaults to
    ``AGENT_AUTHORISATION_DEFAULT_DAYS`` from now and may not exceed
    ``AGENT_AUTHORISATION_MAX_DAYS``.
    """
    enterprise = _lock_enterprise(enterprise)
    if not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态，不能授权经办人"), code="enterprise_inactive")
    if not (_is_legal_rep(actor, enterprise) or _is_licence_admin(actor, enterprise)):
        raise DomainError(
            _("只有法定代表人或证照管理员可以授权经办人"), code="not_allowed_to_grant"
        )
    _require_verified(agent, _("经办人须已完成实名核验（L2）"))
    if agent.pk == enterprise.legal_representative_id:
        raise DomainError(_("法定代表人无需授权"), code="agent_is_legal_rep")
    codes = sorted({code.strip() for code in item_codes if code and code.strip()})
    if scope == AuthorisationScope.ALL:
        codes = []
    elif scope == AuthorisationScope.ITEMS:
        if not codes:
            raise DomainError(_("精准授权须至少指定一个事项编码"), code="no_items")
    else:
        raise DomainError(_("授权范围无效"), code="invalid_scope")
    now = timezone.now()
    expires_at = expires_at or default_authorisation_expiry()
    if expires_at <= now:
        raise DomainError(_("授权到期时间须晚于当前时间"), code="expiry_in_past")
    if expires_at > now + timedelta(days=settings.AGENT_AUTHORISATION_MAX_DAYS):
        raise DomainError(
            _("授权期限最长%(days)d天") % {"days": settings.AGENT_AUTHORISATION_MAX_DAYS},
            code="expiry_too_far",
        )
    authorisation = AgentAuthorisation.objects.create(
        enterprise=enterprise,
        agent=agent,
        granted_by=actor,
        scope=scope,
        item_codes=codes,
        valid_from=now,
        expires_at=expires_at,
    )
    record_audit_event(
        actor=actor,
        action="identity.agent_authorised",
        obj=authorisation,
        data={
            "enterprise_id": enterprise.pk,
            "agent_id": agent.pk,
            "scope": scope,
            "item_codes": codes,
            "expires_at": expires_at.isoformat(),
        },
    )
    return authorisation


@transaction.atomic(durable=True)
def revoke_agent_authorisation(*, actor: User, authorisation_id: int) -> AgentAuthorisation:
    """Revoke an authorisation at any time (legal representative or licence administrator).

    Idempotent: revoking a revoked authorisation changes nothing.
    """
    authorisation = (
        AgentAuthorisation.objects.select_for_update()
        .select_related("enterprise")
        .get(pk=authorisation_id)
    )
    enterprise = authorisation.enterprise
    if not (_is_legal_rep(actor, enterprise) or _is_licence_admin(actor, enterprise)):
        raise DomainError(_("只有法定代表人或证照管理员可以撤销授权"), code="not_allowed_to_revoke")
    if authorisation.revoked_at is not None:
        return authorisation
    authorisation.revoked_at = timezone.now()
    authorisation.revoked_by = actor
    authorisation.revoke_reason = RevokeReason.REVOKED
    authorisation.save(update_fields=["revoked_at", "revoked_by", "revoke_reason", "updated_at"])
    record_audit_event(
        actor=actor,
        action="identity.agent_authorisation_revoked",
        obj=authorisation,
        data={"enterprise_id": enterprise.pk, "agent_id": authorisation.agent_id},
    )
    return authorisation
