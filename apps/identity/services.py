"""Every write of the identity app (STYLE.md C3): accounts, real-name levels, enterprises,
licence administrators and agent authorisations.

Entry services are ``atomic(durable=True)``, lock what they change, and record an audit event as
their last database step. Audit data never carries ID or phone numbers in clear (STYLE.md N5).
"""

from __future__ import annotations

import hmac
import logging
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, RefreshToken

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity import service_codes
from apps.identity.constants import (
    LEVEL_METHODS,
    MAX_LICENCE_ADMINS,
    AssuranceLevel,
    AssuranceMethod,
    AuthorisationScope,
    EnterpriseRoleKind,
    EnterpriseStatus,
    PhoneCodePurpose,
    RegistryStatus,
    RevokeReason,
)
from apps.identity.hooks import run_walk_in_claim_handlers
from apps.identity.models import (
    AgentAuthorisation,
    AssuranceRaise,
    Enterprise,
    EnterpriseRole,
    LegalPersonRecord,
    Person,
    PhoneCode,
    PopulationRecord,
    ServiceCode,
    User,
    WalkInPerson,
)
from apps.identity.permissions import (
    can_administer_department,
    can_identify_applicants,
    reveal_basis,
)
from apps.identity.pii import id_number_index, phone_index
from apps.identity.selectors import (
    active_authorisation,
    enterprise_capacity,
    find_verified_person,
)
from apps.identity.validators import clean_id_number, clean_phone, validate_uscc
from apps.notifications.sms import send_sms

logger = logging.getLogger(__name__)


def _first_message(exc: ValidationError) -> str:
    return str(exc.messages[0]) if exc.messages else str(exc)


def _clean_id(value: str) -> str:
    try:
        return clean_id_number(value)
    except ValidationError as exc:
        raise DomainError(_first_message(exc), code="invalid_id_number") from exc


def _clean_phone(value: str) -> str:
    try:
        return clean_phone(value)
    except ValidationError as exc:
        raise DomainError(_first_message(exc), code="invalid_phone") from exc


def _clean_uscc(value: str) -> str:
    number = "".join((value or "").split()).upper()
    try:
        validate_uscc(number)
    except ValidationError as exc:
        raise DomainError(_first_message(exc), code="invalid_uscc") from exc
    return number


# --- SMS verification codes and registration ------------------------------------------------


def _code_digest(index: str, purpose: str, code: str) -> str:
    return salted_hmac(
        "apps.identity.services.phone_code", f"{index}:{purpose}:{code}", algorithm="sha256"
    ).hexdigest()


def _lock_phone(index: str) -> None:
    """Serialise code sends for one phone (PostgreSQL advisory lock until commit)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int(index[:15], 16)])


@transaction.atomic(durable=True)
def send_phone_code(
    *, phone: str, purpose: str = PhoneCodePurpose.REGISTER, deliver: bool = True
) -> PhoneCode:
    """Send a fresh 6-digit code to ``phone`` by SMS (on commit); only its hash is stored.
    With ``deliver=False`` the code is recorded (and counts against the limits) but no SMS
    leaves: password reset for a number with no account answers exactly like one with.

    Refused (``DomainError``) for an invalid number, a number already registered (purpose
    ``register``), a resend sooner than ``PHONE_CODE_RESEND_SECONDS`` or more than
    ``PHONE_CODE_MAX_PER_HOUR`` codes in an hour. A new code supersedes the previous one.
    """
    phone = _clean_phone(phone)
    index = phone_index(phone)
    _lock_phone(index)
    if purpose == PhoneCodePurpose.REGISTER and Person.objects.filter(phone_index=index).exists():
        raise DomainError(_("该手机号码已注册，请直接登录"), code="phone_taken")
    now = timezone.now()
    recent = list(
        PhoneCode.objects.filter(
            phone_index=index, purpose=purpose, created_at__gt=now - timedelta(hours=1)
        ).order_by("-created_at")
    )
    if recent:
        wait = settings.PHONE_CODE_RESEND_SECONDS - (now - recent[0].created_at).total_seconds()
        if wait > 0:
            raise DomainError(
                _("验证码已发送，请%(seconds)d秒后再重新获取") % {"seconds": int(wait) + 1},
                code="code_resend_too_soon",
            )
    if len(recent) >= settings.PHONE_CODE_MAX_PER_HOUR:
        raise DomainError(
            _("该手机号码获取验证码过于频繁，请1小时后再试"), code="code_rate_limited"
        )
    code = f"{secrets.randbelow(10**6):06d}"
    row = PhoneCode.objects.create(
        phone_index=index,
        purpose=purpose,
        code_hash=_code_digest(index, purpose, code),
        created_at=now,
        expires_at=now + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS),
    )
    minutes = max(1, settings.PHONE_CODE_TTL_SECONDS // 60)
    text = _(
        "【江西政务服务】您的验证码是%(code)s，%(minutes)d分钟内有效。如非本人操作，请忽略。"
    ) % {"code": code, "minutes": minutes}
    if deliver:
        transaction.on_commit(lambda: send_sms(to=phone, text=text))
    logger.info("identity.phone_code_sent", extra={"code_id": row.pk, "purpose": purpose})
    return row


def _consume_phone_code(index: str, purpose: str, code: str) -> str | None:
    """Check ``code`` against the newest code of ``index`` inside the caller's transaction.

    Returns ``None`` when it matches (the code is marked used) or the refusal message. A
    wrong entry counts an attempt; the caller must commit it even though it refuses.
    """
    row = (
        PhoneCode.objects.select_for_update()
        .filter(phone_index=index, purpose=purpose)
        .order_by("-created_at")
        .first()
    )
    now = timezone.now()
    if row is None or row.used_at is not None:
        return _("请先获取短信验证码")
    if row.expires_at <= now:
        return _("验证码已过期，请重新获取")
    if row.attempts >= settings.PHONE_CODE_MAX_ATTEMPTS:
        return _("验证码输入错误次数过多，请重新获取")
    supplied = "".join((code or "").split())
    if not hmac.compare_digest(row.code_hash, _code_digest(index, purpose, supplied)):
        row.attempts += 1
        row.save(update_fields=["attempts"])
        left = settings.PHONE_CODE_MAX_ATTEMPTS - row.attempts
        if left <= 0:
            return _("验证码输入错误次数过多，请重新获取")
        return _("验证码不正确，还可尝试%(left)d次") % {"left": left}
    row.used_at = now
    row.save(update_fields=["used_at"])
    return None


def register_person(*, username: str, password: str, phone: str, code: str) -> User:
    """Registration: check the SMS code sent to ``phone`` and create the L1 account.

    A wrong code is refused with ``DomainError`` and its attempt is still counted (committed);
    a refused account (username or phone taken) leaves the code unused.
    """
    phone = _clean_phone(phone)
    index = phone_index(phone)
    refusal: str | None
    with transaction.atomic(durable=True):
        refusal = _consume_phone_code(index, PhoneCodePurpose.REGISTER, code)
        if refusal is None:
            user = create_person_account(username=username, password=password, phone=phone)
    if refusal is not None:
        raise DomainError(refusal, code="invalid_phone_code")
    return user


@transaction.atomic(durable=True)
def end_all_sessions(*, user: User) -> None:
    """退出所有设备: every session of ``user`` stops validating (the session hash includes
    ``session_epoch``), and the OAuth2 tokens issued to them through SSO are revoked."""
    locked = User.objects.select_for_update().get(pk=user.pk)
    locked.session_epoch += 1
    locked.save(update_fields=["session_epoch"])
    revoked_access = AccessToken.objects.filter(user=locked).count()
    refresh_tokens = list(RefreshToken.objects.filter(user=locked, revoked__isnull=True))
    for token in refresh_tokens:
        token.revoke()  # also deletes its access token
    AccessToken.objects.filter(user=locked).delete()
    record_audit_event(
        actor=locked,
        action="identity.sessions_ended",
        obj=locked,
        data={"refresh_tokens": len(refresh_tokens), "access_tokens": revoked_access},
    )
    user.session_epoch = locked.session_epoch


# --- accounts and assurance levels ------------------------------------------------------------


@transaction.atomic
def create_person_account(
    *, username: str, password: str | None, phone: str, name: str = ""
) -> User:
    """A new natural-person account at L1 (phone verified by the caller, e.g. an SMS code).

    Raises ``DomainError`` when the username or the phone number is already registered.
    """
    phone = _clean_phone(phone)
    if User.objects.filter(username=username).exists():
        raise DomainError(_("该用户名已被注册"), code="username_taken")
    if Person.objects.filter(phone_index=phone_index(phone)).exists():
        raise DomainError(_("该手机号码已注册，请直接登录"), code="phone_taken")
    user = User(username=username)
    if password:
        user.set_password(password)
    else:
        user.set_unusable_password()
    user.save()
    person = Person(user=user, name=name, assurance_level=AssuranceLevel.L1)
    person.set_phone(phone)
    person.save()
    AssuranceRaise.objects.create(
        person=person, from_level=0, to_level=AssuranceLevel.L1, method=AssuranceMethod.PHONE_SMS
    )
    record_audit_event(
        actor=user, action="identity.account_registered", obj=user, data={"level": 1}
    )
    return user


def _raise_level(
    person: Person, *, to_level: int, method: str, raised_by: User | None = None
) -> bool:
    """Record a raise when ``to_level`` is above the person's level; return whether it rose."""
    if method not in LEVEL_METHODS[to_level]:
        raise DomainError(_("该核验方式不能达到所申请的实名等级"), code="method_level_mismatch")
    if to_level <= person.assurance_level:
        return False
    now = timezone.now()
    AssuranceRaise.objects.create(
        person=person,
        from_level=person.assurance_level,
        to_level=to_level,
        method=method,
        raised_by=raised_by,
    )
    person.assurance_level = to_level
    person.level_raised_at = now
    return True


def match_population_registry(*, name: str, id_number: str) -> PopulationRecord | None:
    """The 人口库 record with this ID number and exactly this name, if living and current."""
    record = PopulationRecord.objects.filter(id_number_index=id_number_index(id_number)).first()
    if record is None or record.name != name.strip() or record.status != RegistryStatus.NORMAL:
        return None
    return record


@transaction.atomic(durable=True)
def verify_real_name(*, user: User, name: str, id_number: str) -> Person:
    """Raise ``user`` to L2 by matching name + ID number against the population registry.

    DOMAIN.md §4.2 (L2 = two-factor check against 人口库). Refuses an invalid number, a
    mismatch, and a number already verified by another account. Idempotent for a person who
    is already verified with the same number.
    """
    id_number = _clean_id(id_number)
    name = name.strip()
    person = Person.objects.select_for_update().get(user=user)
    index = id_number_index(id_number)
    if person.id_number_index and person.id_number_index != index:
        raise DomainError(_("该账号已实名认证，不能更换身份证号码"), code="already_verified")
    if Person.objects.filter(id_number_index=index).exclude(pk=person.pk).exists():
        raise DomainError(
            _("该身份证号码已被其他账号实名认证，如非本人操作请到窗口办理"), code="id_taken"
        )
    if match_population_registry(name=name, id_number=id_number) is None:
        logger.info("identity.real_name_mismatch", extra={"user_id": user.pk})
        raise DomainError(
            _("姓名与身份证号码不一致，或人口库中无此记录，请核对后重试"),
            code="registry_mismatch",
        )
    person.name = name
    person.set_id_number(id_number)
    raised = _raise_level(
        person, to_level=AssuranceLevel.L2, method=AssuranceMethod.POPULATION_REGISTRY
    )
    person.save()
    claimed = _claim_walk_in_record(person, user)
    record_audit_event(
        actor=user,
        action="identity.real_name_verified",
        obj=person,
        data={
            "level": person.assurance_level,
            "raised": raised,
            "method": "population_registry",
            "walk_in_claimed": claimed,
        },
    )
    return person


def _claim_walk_in_record(person: Person, user: User) -> bool:
    """The window record of the ID number ``person`` has just verified becomes ``user``'s,
    once: every handler (cases) moves its records to the account in this transaction, audited.

    Only the same verified ID number claims (the blind index of a registry-matched number);
    a record already claimed is left alone, so nothing is claimed twice.
    """
    record = (
        WalkInPerson.objects.select_for_update()
        .filter(id_number_index=person.id_number_index, claimed_by__isnull=True)
        .first()
    )
    if record is None or person.id_number_index is None:
        return False
    record.claimed_by = user
    record.claimed_at = timezone.now()
    record.save(update_fields=["claimed_by", "claimed_at", "updated_at"])
    moved = run_walk_in_claim_handlers(walk_in_person=record, user=user)
    record_audit_event(
        actor=user,
        action="identity.walk_in_claimed",
        obj=record,
        data={"user_id": user.pk, "moved": moved},
    )
    return True


@transaction.atomic(durable=True)
def raise_assurance_level(
    *, user: User, to_level: int, method: str, raised_by: User | None = None
) -> Person:
    """Raise to L3/L4 after a stronger check (face, 网证, bank 4-factor, window, certificate).

    The check itself is done by the caller (an external provider or a clerk at the window);
    this records the outcome. The person must already be verified at L2.
    """
    person = Person.objects.select_for_update().get(user=user)
    if person.assurance_level < AssuranceLevel.L2:
        raise DomainError(_("请先完成实名核验（L2）"), code="needs_l2")
    raised = _raise_level(person, to_level=to_level, method=method, raised_by=raised_by)
    if raised:
        person.save(update_fields=["assurance_level", "level_raised_at", "updated_at"])
        record_audit_event(
            actor=raised_by or user,
            action="identity.level_raised",
            obj=person,
            data={"level": to_level, "method": method},
        )
    return person


def _l3_attempts_key(user: User) -> str:
    return f"identity:l3-failures:{user.pk}:{timezone.localdate().isoformat()}"


def verify_level_three(
    *, user: User, name: str, id_number: str, phone: str, card_number: str
) -> Person:
    """L2 → L3 through the configured real-person provider (``verification.get_l3_backend``;
    in development bank-card four factors checked against the registries).

    Refused with a Chinese ``DomainError`` when the person is below L2, the provider says no
    (each failure counted; ``IDENTITY_L3_DAILY_ATTEMPTS`` failures a day), or the factors are
    malformed. The card number is passed to the provider and never stored or logged. Recorded
    and audited by ``raise_assurance_level``.
    """
    from django.core.cache import cache

    from apps.identity.verification import get_l3_backend

    person = Person.objects.filter(user=user).first()
    if person is None or person.assurance_level < AssuranceLevel.L2:
        raise DomainError(_("请先完成实名核验（L2）"), code="needs_l2")
    if person.assurance_level >= AssuranceLevel.L3:
        return person
    key = _l3_attempts_key(user)
    if int(cache.get(key) or 0) >= settings.IDENTITY_L3_DAILY_ATTEMPTS:
        raise DomainError(
            _("今日认证失败次数过多，请明天再试，或到政务服务大厅窗口当面核验"),
            code="l3_attempts_exhausted",
        )
    data = {
        "name": name.strip(),
        "id_number": _clean_id(id_number),
        "phone": _clean_phone(phone),
        "card_number": "".join((card_number or "").split()),
    }
    backend = get_l3_backend()
    outcome = backend.verify(person=person, data=data)
    if not outcome.passed:
        cache.add(key, 0, timeout=24 * 3600)
        cache.incr(key)
        logger.info("identity.l3_verification_failed", extra={"user_id": user.pk})
        raise DomainError(outcome.message or _("认证未通过"), code="l3_failed")
    return raise_assurance_level(user=user, to_level=AssuranceLevel.L3, method=backend.method)


def verify_in_person_at_window(*, clerk: User, subject: User) -> Person:
    """L4: a window clerk has checked the person against their resident ID card face to face
    (after identifying them by service code or ID number). Recorded with the clerk as
    ``raised_by`` and audited with the clerk as actor. The person must be at L2 already (their
    name and number were matched against the population registry)."""
    if not can_identify_applicants(clerk):
        raise DomainError(_("只有窗口受理人员可以当面核验"), code="not_clerk")
    if clerk.pk == subject.pk:
        raise DomainError(_("不能为本人办理当面核验"), code="self_verification")
    return raise_assurance_level(
        user=subject, to_level=AssuranceLevel.L4, method=AssuranceMethod.WINDOW, raised_by=clerk
    )


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


# --- revealing a full ID number (audited) -------------------------------------------------------

MIN_REVEAL_REASON = 2


@transaction.atomic(durable=True)
def reveal_person_id_number(*, staff: User, subject: User, reason: str) -> str:
    """The full ID number of ``subject`` for a permitted staff action, audited (who, whose,
    why, on what basis). Refused without a basis (``permissions.reveal_basis``) or a reason."""
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REVEAL_REASON:
        raise DomainError(_("请填写查看完整身份证号码的事由"), code="reason_required")
    basis = reveal_basis(staff, subject)
    if basis is None:
        raise DomainError(_("您无权查看该申请人的完整身份证号码"), code="reveal_not_allowed")
    person = Person.objects.filter(user=subject).first()
    if person is None or not person.id_number:
        raise DomainError(_("该申请人尚未登记身份证号码"), code="no_id_number")
    record_audit_event(
        actor=staff,
        action="identity.id_number_revealed",
        obj=person,
        data={"subject_id": subject.pk, "reason": reason[:200], "basis": basis},
    )
    logger.info("identity.id_number_revealed", extra={"staff_id": staff.pk, "basis": basis})
    return person.id_number


@transaction.atomic(durable=True)
def grant_reveal_permission(
    *, granted_by: User, staff: User, subject: User, department: int, reason: str
) -> None:
    """A department administrator lets one staff member of their department see one person's
    full ID number (django-guardian per-object grant), e.g. for a supervision case."""
    from guardian.shortcuts import assign_perm

    if not can_administer_department(granted_by, department):
        raise DomainError(_("只有部门管理员可以授予查看权限"), code="not_dept_admin")
    if not staff.memberships.filter(department_id=department, is_active=True).exists():
        raise DomainError(_("只能授予本部门工作人员"), code="not_in_department")
    reason = " ".join((reason or "").split())
    if len(reason) < MIN_REVEAL_REASON:
        raise DomainError(_("请填写授权事由"), code="reason_required")
    person = Person.objects.filter(user=subject).first()
    if person is None or not person.id_number:
        raise DomainError(_("该人员尚未登记身份证号码"), code="no_id_number")
    assign_perm("identity.reveal_id_number", staff, person)
    record_audit_event(
        actor=granted_by,
        action="identity.reveal_permission_granted",
        obj=person,
        data={"staff_id": staff.pk, "department_id": department, "reason": reason[:200]},
    )


@transaction.atomic(durable=True)
def revoke_reveal_permission(
    *, revoked_by: User, staff: User, subject: User, department: int, reason: str = ""
) -> bool:
    """Withdraw a per-object reveal grant (django-guardian ``remove_perm``), audited. Only a
    department administrator of a department the staff member belongs to. Returns whether a
    grant existed."""
    from guardian.models import UserObjectPermission
    from guardian.shortcuts import remove_perm

    if not can_administer_department(revoked_by, department):
        raise DomainError(_("只有部门管理员可以撤销查看权限"), code="not_dept_admin")
    if not staff.memberships.filter(department_id=department).exists():
        raise DomainError(_("只能撤销本部门工作人员的权限"), code="not_in_department")
    person = Person.objects.get(user=subject)
    existed = UserObjectPermission.objects.filter(
        user=staff,
        permission__codename="reveal_id_number",
        content_type__app_label="identity",
        object_pk=str(person.pk),
    ).exists()
    remove_perm("identity.reveal_id_number", staff, person)
    record_audit_event(
        actor=revoked_by,
        action="identity.reveal_permission_revoked",
        obj=person,
        data={
            "staff_id": staff.pk,
            "department_id": department,
            "existed": existed,
            "reason": " ".join((reason or "").split())[:200],
        },
    )
    return existed


# --- identifying a walk-in at the window by ID card (一窗受理, issue 16) -----------------------


@dataclass(frozen=True)
class WindowApplicant:
    """Who stands at the window after the clerk checked their resident ID card.

    Exactly one of ``user`` (a real-name verified account with this ID number and name) and
    ``walk_in_person`` (no such account: the clerk's record) is set. ``enterprise`` is the
    enterprise they act for, if any; ``capacity`` is ``"self"``, ``"legal_rep"``,
    ``"licence_admin"``, ``"agent"`` (an online authorisation, ``authorisation``) or
    ``"paper_agent"`` (the clerk checked a sealed paper authorisation letter).
    """

    user: User | None = None
    walk_in_person: WalkInPerson | None = None
    enterprise: Enterprise | None = None
    capacity: str = "self"
    authorisation: AgentAuthorisation | None = None

    @property
    def masked_name(self) -> str:
        if self.user is not None:
            return self.user.masked_name
        assert self.walk_in_person is not None
        return self.walk_in_person.masked_name

    @property
    def has_account(self) -> bool:
        return self.user is not None


def registry_names_legal_rep(enterprise: Enterprise, *, id_index: str, name: str) -> bool:
    """Whether the 法人库 record of ``enterprise`` names the person with this ID number index
    and name as its legal representative."""
    record = LegalPersonRecord.objects.filter(uscc=enterprise.uscc).first()
    return (
        record is not None
        and hmac.compare_digest(record.legal_rep_id_index, id_index)
        and record.legal_rep_name == name
    )


def _enterprise_from_registry(uscc: str) -> Enterprise:
    """The enterprise with credit code ``uscc`` as the 法人库 has it (存续 only); created from
    the registry when no one has bound it yet (no legal representative account)."""
    record = LegalPersonRecord.objects.filter(uscc=uscc).first()
    if record is None:
        raise DomainError(_("法人库中没有该统一社会信用代码"), code="not_in_registry")
    if record.status != EnterpriseStatus.ACTIVE:
        raise DomainError(
            _("该法人在法人库中的状态为“%(status)s”，不能办理")
            % {"status": record.get_status_display()},
            code="enterprise_inactive",
        )
    enterprise = Enterprise.objects.select_for_update().filter(uscc=uscc).first()
    if enterprise is None:
        enterprise = Enterprise(
            uscc=uscc,
            name=record.name,
            legal_rep_name=record.legal_rep_name,
            status=record.status,
            address=record.address,
            registry_record=record,
        )
        enterprise.full_clean()
        enterprise.save()
    elif not enterprise.is_active:
        raise DomainError(_("该企业不是存续状态"), code="enterprise_inactive")
    return enterprise


@transaction.atomic(durable=True)
def identify_at_window(
    *,
    clerk: User,
    name: str,
    id_number: str,
    phone: str = "",
    uscc: str = "",
    paper_authorisation: bool = False,
) -> WindowApplicant:
    """一窗受理 by ID card: the clerk has the person's resident ID card in hand.

    Name and number must match the population registry (living, current record), else
    ``registry_mismatch``. A real-name verified account with this number and name is used as
    is. Anyone else is served without an account: their ``WalkInPerson`` record (one per ID
    number) is created or refreshed with the contact ``phone`` the clerk records for SMS
    notices (required then, ``phone_required``). With ``uscc`` they act for that enterprise
    (法人库, 存续): as its legal representative if the registry names them, under their
    account's role or online authorisation, or else only on a sealed paper authorisation
    letter the clerk has checked (``paper_authorisation``; ``authorisation_required``).
    Audited; a refusal writes nothing.
    """
    if not can_identify_applicants(clerk):
        raise DomainError(_("只有窗口受理人员可以核验申请人身份"), code="not_clerk")
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(_("请填写身份证上的姓名"), code="name_required")
    id_number = _clean_id(id_number)
    # A verified account was matched against the registry when it reached L2.
    user = find_verified_person(id_number=id_number, name=name)
    record = None
    if user is None:
        record = match_population_registry(name=name, id_number=id_number)
        if record is None:
            logger.info("identity.window_registry_mismatch", extra={"clerk_id": clerk.pk})
            raise DomainError(
                _("身份证号码与姓名不一致，或人口库中无此记录，请核对身份证件"),
                code="registry_mismatch",
            )
    walk_in: WalkInPerson | None = None
    if user is None:
        assert record is not None
        if not (phone or "").strip():
            raise DomainError(
                _("该申请人没有网上账号，请登记联系电话，用于短信告知办理进度"),
                code="phone_required",
            )
        phone = _clean_phone(phone)
        index = id_number_index(id_number)
        walk_in = WalkInPerson.objects.select_for_update().filter(id_number_index=index).first()
        created = walk_in is None
        if walk_in is None:
            walk_in = WalkInPerson(identified_by=clerk)
            walk_in.set_id_number(id_number)
        walk_in.name = record.name
        walk_in.population_record = record
        walk_in.identified_by = clerk
        walk_in.identified_at = timezone.now()
        walk_in.set_phone(phone)
        walk_in.save()
        record_audit_event(
            actor=clerk,
            action="identity.walk_in_identified",
            obj=walk_in,
            data={"created": created, "claimed": walk_in.claimed_by_id is not None},
        )
    else:
        record_audit_event(
            actor=clerk, action="identity.identified_at_window", obj=user, data={"method": "id"}
        )
    if not (uscc or "").strip():
        return WindowApplicant(user=user, walk_in_person=walk_in)
    enterprise = _enterprise_from_registry(_clean_uscc(uscc))
    capacity, authorisation = _window_capacity(
        enterprise,
        user=user,
        is_registered_rep=registry_names_legal_rep(
            enterprise, id_index=id_number_index(id_number), name=name
        ),
        paper_authorisation=paper_authorisation,
    )
    record_audit_event(
        actor=clerk,
        action="identity.enterprise_identified_at_window",
        obj=enterprise,
        data={
            "capacity": capacity,
            "user_id": getattr(user, "pk", None),
            "walk_in_person_id": getattr(walk_in, "pk", None),
            "authorisation_id": getattr(authorisation, "pk", None),
        },
    )
    return WindowApplicant(
        user=user,
        walk_in_person=walk_in,
        enterprise=enterprise,
        capacity=capacity,
        authorisation=authorisation,
    )


def _window_capacity(
    enterprise: Enterprise,
    *,
    user: User | None,
    is_registered_rep: bool,
    paper_authorisation: bool,
) -> tuple[str, AgentAuthorisation | None]:
    if user is not None:
        capacity = enterprise_capacity(user, enterprise)
        if capacity is not None:
            return capacity, None
        authorisation = active_authorisation(user, enterprise)
        if authorisation is not None:
            return "agent", authorisation
    if is_registered_rep:
        # The 法人库 names the person whose ID card the clerk holds: no letter needed.
        return "legal_rep", None
    if paper_authorisation:
        return "paper_agent", None
    raise DomainError(
        _("申请人不是该单位的法定代表人，也没有网上授权：请核验加盖单位公章的授权委托书"),
        code="authorisation_required",
    )
