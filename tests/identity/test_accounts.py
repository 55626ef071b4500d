"""Registration codes, registration and "logout everywhere" (services)."""

import re
from datetime import timedelta

import pytest
import time_machine

from django.test import Client
from django.utils import timezone
from oauth2_provider.models import AccessToken, RefreshToken

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.constants import AssuranceLevel
from apps.identity.models import PhoneCode, User
from apps.identity.pii import phone_index
from tests.identity.factories import ApplicationFactory, PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


def _send(django_capture_on_commit_callbacks, phone: str = PHONE) -> str:
    with django_capture_on_commit_callbacks(execute=True):
        services.send_phone_code(phone=phone)
    from apps.notifications import sms

    return re.search(r"验证码是(\d{6})", sms.outbox[-1].text).group(1)


def test_send_phone_code_texts_six_digits_and_stores_only_a_hash(
    sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # when
    code = _send(django_capture_on_commit_callbacks)

    # then
    assert len(sms_outbox) == 1
    assert sms_outbox[0].to == PHONE
    row = PhoneCode.objects.get()
    assert row.phone_index == phone_index(PHONE)
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.expires_at - row.created_at == timedelta(seconds=300)


def test_send_phone_code_is_not_sent_before_commit(sms_outbox) -> None:
    # when: the transaction's on-commit callbacks never run (test transaction rolls back)
    services.send_phone_code(phone=PHONE)

    # then
    assert sms_outbox == []


def test_resend_too_soon_is_refused(sms_outbox, django_capture_on_commit_callbacks) -> None:
    # given
    _send(django_capture_on_commit_callbacks)

    # when / then
    with pytest.raises(DomainError, match="秒后再重新获取"):
        services.send_phone_code(phone=PHONE)
    assert PhoneCode.objects.count() == 1
    assert len(sms_outbox) == 1


def test_at_most_five_codes_per_hour(sms_outbox, django_capture_on_commit_callbacks) -> None:
    # given: five codes, a minute apart
    start = timezone.now()
    for minute in range(5):
        with time_machine.travel(start + timedelta(minutes=minute * 1.1), tick=False):
            _send(django_capture_on_commit_callbacks)

    # when / then: the sixth inside the hour is refused
    with (
        time_machine.travel(start + timedelta(minutes=10), tick=False),
        pytest.raises(DomainError, match="过于频繁"),
    ):
        services.send_phone_code(phone=PHONE)
    # and allowed again once the first has left the hour window
    with time_machine.travel(start + timedelta(minutes=61), tick=False):
        _send(django_capture_on_commit_callbacks)
    assert PhoneCode.objects.count() == 6


def test_code_is_refused_for_a_registered_phone(sms_outbox) -> None:
    # given
    PersonFactory(phone=PHONE)

    # when / then
    with pytest.raises(DomainError, match="该手机号码已注册"):
        services.send_phone_code(phone=PHONE)
    assert PhoneCode.objects.count() == 0


def test_invalid_phone_is_refused() -> None:
    with pytest.raises(DomainError, match="11位中国大陆手机号码"):
        services.send_phone_code(phone="1234")


def test_register_with_the_right_code_creates_an_l1_account(
    sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    code = _send(django_capture_on_commit_callbacks)

    # when
    user = services.register_person(
        username="wang-wu", password="a-long-passphrase", phone=PHONE, code=code
    )

    # then
    assert user.assurance_level == AssuranceLevel.L1
    assert user.person.phone == PHONE
    assert user.check_password("a-long-passphrase")
    assert PhoneCode.objects.get().used_at is not None
    assert AuditEvent.objects.filter(action="identity.account_registered").count() == 1


def test_a_used_code_cannot_register_twice(sms_outbox, django_capture_on_commit_callbacks) -> None:
    # given
    code = _send(django_capture_on_commit_callbacks)
    services.register_person(username="first", password="a-long-passphrase", phone=PHONE, code=code)

    # when / then
    with pytest.raises(DomainError, match="请先获取短信验证码"):
        services.register_person(
            username="second", password="a-long-passphrase", phone=PHONE, code=code
        )
    assert User.objects.filter(username="second").count() == 0


def test_wrong_code_counts_attempts_until_the_code_is_dead(
    sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    code = _send(django_capture_on_commit_callbacks)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    # when: four wrong entries, each refused with the attempts left
    for left in (4, 3, 2, 1):
        with pytest.raises(DomainError, match=f"还可尝试{left}次"):
            services.register_person(
                username="guess", password="a-long-passphrase", phone=PHONE, code=wrong
            )
    # the fifth wrong entry kills the code
    with pytest.raises(DomainError, match="错误次数过多"):
        services.register_person(
            username="guess", password="a-long-passphrase", phone=PHONE, code=wrong
        )

    # then: even the right code is now refused, and nothing was created
    with pytest.raises(DomainError, match="错误次数过多"):
        services.register_person(
            username="guess", password="a-long-passphrase", phone=PHONE, code=code
        )
    assert PhoneCode.objects.get().attempts == 5
    assert User.objects.filter(username="guess").count() == 0


def test_expired_code_is_refused(sms_outbox, django_capture_on_commit_callbacks) -> None:
    # given
    code = _send(django_capture_on_commit_callbacks)

    # when / then
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=301)),
        pytest.raises(DomainError, match="验证码已过期"),
    ):
        services.register_person(
            username="late", password="a-long-passphrase", phone=PHONE, code=code
        )
    assert User.objects.filter(username="late").count() == 0


def test_taken_username_leaves_the_code_usable(
    sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    UserFactory(username="taken")
    code = _send(django_capture_on_commit_callbacks)

    # when
    with pytest.raises(DomainError, match="该用户名已被注册"):
        services.register_person(
            username="taken", password="a-long-passphrase", phone=PHONE, code=code
        )

    # then
    assert PhoneCode.objects.get().used_at is None
    assert services.register_person(
        username="free", password="a-long-passphrase", phone=PHONE, code=code
    )


def test_end_all_sessions_invalidates_other_sessions_and_sso_tokens() -> None:
    # given: the same account signed in on two devices, and an SSO refresh token
    user = PersonFactory().user
    phone_browser, laptop_browser = Client(), Client()
    phone_browser.force_login(user)
    laptop_browser.force_login(user)
    application = ApplicationFactory()
    access = AccessToken.objects.create(
        user=user, application=application, token="at-1", expires=timezone.now() + timedelta(1)
    )
    RefreshToken.objects.create(
        user=user, application=application, token="rt-1", access_token=access
    )
    assert laptop_browser.get("/accounts/profile/").status_code == 200

    # when
    services.end_all_sessions(user=user)

    # then
    assert laptop_browser.get("/accounts/profile/").status_code == 302
    assert phone_browser.get("/accounts/profile/").status_code == 302
    assert AccessToken.objects.filter(user=user).count() == 0
    assert RefreshToken.objects.get(user=user).revoked is not None
    assert User.objects.get(pk=user.pk).session_epoch == 1
    event = AuditEvent.objects.get(action="identity.sessions_ended")
    assert event.data == {"refresh_tokens": 1, "access_tokens": 1}
