"""The demo's SMS backend keeps the console quiet: every message goes to the SMS log file,
only verification codes (which the person trying the demo must type) also print."""

from __future__ import annotations

import pytest

from apps.identity.constants import PhoneCodePurpose
from apps.identity.services import send_phone_code
from apps.notifications.sms import CODE, DemoSmsBackend, SmsMessage, send_sms


@pytest.fixture
def demo_sms(settings, tmp_path):
    settings.SMS_BACKEND = "apps.notifications.sms.DemoSmsBackend"
    settings.SMS_LOG_FILE = str(tmp_path / "demo-sms.log")
    return tmp_path / "demo-sms.log"


def test_notices_go_to_the_file_and_codes_also_to_the_console(demo_sms, capsys) -> None:
    # when
    send_sms(to="13800138000", text="您申请的“设立登记”已受理。")
    send_sms(to="13800138000", text="您的验证码是123456", kind=CODE)

    # then
    logged = demo_sms.read_text(encoding="utf-8").splitlines()
    assert logged == [
        "[SMS to 138****8000] 您申请的“设立登记”已受理。",
        "[SMS to 138****8000] 您的验证码是123456",
    ]
    assert capsys.readouterr().out == "[SMS to 138****8000] 您的验证码是123456\n"


def test_without_a_file_everything_prints(settings, capsys) -> None:
    settings.SMS_LOG_FILE = ""

    DemoSmsBackend().send_messages([SmsMessage(to="13800138000", text="已受理")])

    assert capsys.readouterr().out == "[SMS to 138****8000] 已受理\n"


@pytest.mark.django_db
def test_registration_codes_are_sent_as_codes(
    demo_sms, capsys, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        send_phone_code(phone="13900001111", purpose=PhoneCodePurpose.REGISTER)

    # then: on the console (the person needs it) and in the file
    assert "验证码" in capsys.readouterr().out
    assert "验证码" in demo_sms.read_text(encoding="utf-8")
