"""忘记密码 by SMS code: the code goes to the registered mobile only, the answer never tells
whether a number has an account, limits and expiry hold, the new password works, sessions end
and the change is audited. Plus the service-code page's countdown data."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from axes.models import AccessAttempt

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity import password_reset
from apps.identity.backends import login_key
from apps.identity.constants import PhoneCodePurpose
from apps.identity.models import PhoneCode
from tests.identity.factories import verified_user

pytestmark = pytest.mark.django_db

PHONE = "13900001111"
UNKNOWN = "13900009999"
NEW_PASSWORD = "Xin-mima-2026"


@pytest.fixture
def account():
    user = verified_user("张伟", phone=PHONE)
    user.set_password("Old-password-1")
    user.save()
    return user


def _code(outbox) -> str:
    return re.search(r"验证码是(\d{6})", outbox[-1].text).group(1)


def _same_page(html: str, phone: str) -> str:
    """The page with the echoed number and the (per-render masked) CSRF token taken out."""
    html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)
    return html.replace(phone, "N")


def _send(client, phone: str):
    return client.post(
        reverse("identity:password-reset"), {"action": "send_code", "phone": phone}, follow=True
    )


def _reset(client, phone: str, code: str, password: str = NEW_PASSWORD, password2=None):
    return client.post(
        reverse("identity:password-reset"),
        {
            "action": "reset",
            "phone": phone,
            "code": code,
            "password1": password,
            "password2": password2 or password,
        },
    )


def test_login_page_links_to_password_reset(client) -> None:
    html = client.get(reverse("identity:login")).content.decode()

    assert reverse("identity:password-reset") in html


def test_reset_by_sms_code_sets_the_password_ends_sessions_and_is_audited(
    client, account, sms_outbox, django_capture_on_commit_callbacks, django_assert_max_num_queries
) -> None:
    # given: signed in elsewhere
    other_device = client.__class__()
    other_device.force_login(account)
    with django_capture_on_commit_callbacks(execute=True):
        response = _send(client, PHONE)
    assert response.status_code == 200
    assert [m.to for m in sms_outbox] == [PHONE]

    # when
    # (one of them clears the account's django-axes login failures)
    with django_assert_max_num_queries(25):
        response = _reset(client, PHONE, _code(sms_outbox))

    # then
    assert response.status_code == 302
    assert response["Location"] == reverse("identity:login")
    account.refresh_from_db()
    assert account.check_password(NEW_PASSWORD)
    assert not account.check_password("Old-password-1")
    assert other_device.get(reverse("identity:profile")).status_code == 302
    event = AuditEvent.objects.get(action="identity.password_reset")
    assert event.actor_id == account.pk
    assert AuditEvent.objects.filter(action="identity.sessions_ended").count() == 1


def test_a_reset_lifts_the_login_lockout_and_says_so_in_the_audit(
    client, account, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: the account is locked out by five failures (by username and by mobile)
    login = reverse("identity:login")
    for attempt in range(5):
        who = account.username if attempt % 2 else PHONE
        client.post(login, {"username": who, "password": f"wrong-{attempt}"})
    locked = client.post(login, {"username": PHONE, "password": "Old-password-1"})
    assert locked.status_code == 429
    assert AccessAttempt.objects.filter(username=login_key(PHONE)).exists()

    # when: the owner of the mobile resets the password
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, PHONE)
    assert _reset(client, PHONE, _code(sms_outbox)).status_code == 302

    # then: the new password signs in at once, from any browser, by mobile or username
    assert not AccessAttempt.objects.filter(username=login_key(PHONE)).exists()
    response = Client().post(login, {"username": PHONE, "password": NEW_PASSWORD})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="identity.password_reset")
    assert event.data["login_failures_cleared"] == 1


def test_a_refused_reset_leaves_the_lockout_in_place(
    client, account, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    login = reverse("identity:login")
    for attempt in range(5):
        client.post(login, {"username": PHONE, "password": f"wrong-{attempt}"})
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, PHONE)

    # when: a wrong code
    assert _reset(client, PHONE, "000000").status_code == 200

    # then
    response = Client().post(login, {"username": PHONE, "password": "Old-password-1"})
    assert response.status_code == 429


def test_an_unknown_number_gets_the_same_answer_and_no_sms(
    client, account, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        known = _send(client, PHONE).content.decode()
        unknown = _send(client.__class__(), UNKNOWN).content.decode()

    # then: identical pages but for the echoed number, and one SMS only
    assert _same_page(known, PHONE) == _same_page(unknown, UNKNOWN)
    assert "验证码已发送" in known
    assert [m.to for m in sms_outbox] == [PHONE]
    # the limits hold for an unknown number too (a code is recorded, not sent)
    assert PhoneCode.objects.filter(purpose=PhoneCodePurpose.RESET_PASSWORD).count() == 2


def test_resend_limit_answers_alike_for_known_and_unknown_numbers(
    client, account, sms_outbox
) -> None:
    # given
    for phone in (PHONE, UNKNOWN):
        _send(client, phone)

    # when
    again_known = _send(client, PHONE).content.decode()
    again_unknown = _send(client, UNKNOWN).content.decode()

    # then
    assert "秒后再重新获取" in again_known
    assert _same_page(again_known, PHONE) == _same_page(again_unknown, UNKNOWN)


def test_a_guessed_code_for_an_unknown_number_is_refused_like_a_wrong_code(client, account) -> None:
    # given
    _send(client, UNKNOWN)

    # when
    response = _reset(client, UNKNOWN, "000000")

    # then
    assert response.status_code == 200
    assert "验证码不正确" in response.content.decode()
    assert not AuditEvent.objects.filter(action="identity.password_reset").exists()


def test_wrong_codes_are_counted_and_then_refused(
    client, account, sms_outbox, django_capture_on_commit_callbacks, settings
) -> None:
    # given
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, PHONE)
    right = _code(sms_outbox)
    wrong = "000000" if right != "000000" else "111111"

    # when
    for _ in range(settings.PHONE_CODE_MAX_ATTEMPTS):
        _reset(client, PHONE, wrong)
    response = _reset(client, PHONE, right)

    # then
    assert "错误次数过多" in response.content.decode()
    account.refresh_from_db()
    assert not account.check_password(NEW_PASSWORD)


def test_an_expired_code_is_refused(
    client, account, sms_outbox, django_capture_on_commit_callbacks, settings
) -> None:
    # given
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, PHONE)
    code = _code(sms_outbox)

    # when
    later = timezone.now() + timedelta(seconds=settings.PHONE_CODE_TTL_SECONDS + 1)
    with time_machine.travel(later, tick=False):
        response = _reset(client, PHONE, code)

    # then
    assert "验证码已过期" in response.content.decode()


def test_a_code_works_once(account, sms_outbox, django_capture_on_commit_callbacks) -> None:
    # given
    with django_capture_on_commit_callbacks(execute=True):
        password_reset.request_reset_code(phone=PHONE)
    code = _code(sms_outbox)
    password_reset.reset_password(phone=PHONE, code=code, password=NEW_PASSWORD)

    # when / then
    with pytest.raises(DomainError) as refused:
        password_reset.reset_password(phone=PHONE, code=code, password="Another-pass-9")
    assert refused.value.code == "invalid_phone_code"


def test_a_weak_password_is_refused_and_leaves_the_code_usable(
    client, account, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    with django_capture_on_commit_callbacks(execute=True):
        _send(client, PHONE)
    code = _code(sms_outbox)

    # when
    weak = _reset(client, PHONE, code, password="12345678")
    mismatch = _reset(client, PHONE, code, password=NEW_PASSWORD, password2="Different-1x")
    good = _reset(client, PHONE, code)

    # then
    assert weak.status_code == 200
    assert mismatch.status_code == 200
    assert "两次输入的密码不一致" in mismatch.content.decode()
    assert good.status_code == 302


def test_requests_per_address_are_capped_whatever_numbers_they_name(
    client, sms_outbox, settings
) -> None:
    # given
    settings.PASSWORD_RESET_IP_LIMIT = 3
    for index in range(3):
        _send(client, f"1390000100{index}")

    # when
    response = _send(client, "13900001009")

    # then
    assert "操作过于频繁" in response.content.decode()
    assert PhoneCode.objects.filter(purpose=PhoneCodePurpose.RESET_PASSWORD).count() == 3


# --- the service-code page's countdown --------------------------------------------------------


def test_service_code_page_carries_the_countdown_and_auto_refresh_hooks(
    client, account, settings, django_assert_max_num_queries
) -> None:
    # given
    client.force_login(account)

    # when
    with django_assert_max_num_queries(12):
        html = client.post(reverse("identity:service-code")).content.decode()

    # then: script from a file (CSP), the seconds left, the refresh form marked for auto
    assert "js/service_code.js" in html
    assert "<script>" not in html
    assert 'style="' not in html
    seconds = int(re.search(r'data-seconds-left="(\d+)"', html).group(1))
    assert settings.SERVICE_CODE_TTL_SECONDS - 2 <= seconds <= settings.SERVICE_CODE_TTL_SECONDS
    assert "data-auto-refresh" in html
    assert 'name="auto" value="0"' in html


def test_automatic_refreshes_stop_after_the_limit(client, account) -> None:
    from apps.identity.views import SERVICE_CODE_AUTO_REFRESHES

    client.force_login(account)

    html = client.post(
        reverse("identity:service-code"), {"auto": str(SERVICE_CODE_AUTO_REFRESHES)}
    ).content.decode()

    assert "data-countdown-refresh" in html
    assert "data-auto-refresh" not in html


def test_service_code_page_without_a_code_has_no_countdown(client, account) -> None:
    client.force_login(account)

    html = client.get(reverse("identity:service-code")).content.decode()

    assert "data-seconds-left" not in html
