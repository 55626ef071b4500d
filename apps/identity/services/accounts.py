"""Accounts: SMS verification codes, registration, sessions, real-name verification and
assurance levels."""

from __future__ import annotations

import hmac
import logging
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from oauth2_provider.models import AccessToken, RefreshToken

from apps.audit.services import record_audit_event
from apps.core.exceptions import DomainError
from apps.identity.constants import (
    LEVEL_METHODS,
    AssuranceLevel,
    AssuranceMethod,
    PhoneCodePurpose,
    RegistryStatus,
)
from apps.identity.hooks import run_walk_in_claim_handlers
from apps.identity.models import (
    AssuranceRaise,
    Person,
    PhoneCode,
    PopulationRecord,
    User,
    WalkInPerson,
)
from apps.identity.permissions import (
    can_identify_applicants,
)
from apps.identity.pii import id_number_index, phone_index
from apps.identity.services._common import _clean_id, _clean_phone
from apps.notifications.sms import CODE as SMS_CODE
from apps.notifications.sms import send_sms

logger = logging.getLogger(__name__)

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
        transaction.on_commit(lambda: send_sms(to=phone, text=text, kind=SMS_CODE))
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
