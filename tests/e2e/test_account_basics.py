"""Account basics in a real browser: 忘记密码 by SMS code, and the service code counting down
and refreshing itself before it expires (static/js/service_code.js, under the page's CSP)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.identity.factories import PersonFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)


def test_forgotten_password_is_reset_by_sms_code(
    live_server, page: Page, login, sms_outbox
) -> None:
    # given
    PersonFactory(user=UserFactory(username="qian-qi"), phone="13600004444", verified=True)

    # when: from the login page, ask for a code and set a new password
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_test_id("forgot-password").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("找回密码")
    page.get_by_label("手机号码").fill("13600004444")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    code = re.search(r"验证码是(\d{6})", sms_outbox[-1].text).group(1)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("新密码", exact=True).fill("brand-new-pass-26")
    page.get_by_label("确认新密码").fill("brand-new-pass-26")
    page.get_by_role("button", name="重置密码").click()

    # then: back at the login page, and the new password works
    expect(page).to_have_url(re.compile(r"/accounts/login/"))
    expect(page.get_by_role("status")).to_contain_text("密码已重置")
    login(page, live_server, "13600004444", "brand-new-pass-26")
    expect(page.get_by_role("heading", level=1)).to_have_text("个人中心")


@pytest.mark.slow
def test_service_code_counts_down_and_refreshes_before_it_expires(
    live_server, page: Page, login, settings
) -> None:
    # given: codes that live 20 s (the page refreshes 10 s before expiry, i.e. after ~10 s)
    settings.SERVICE_CODE_TTL_SECONDS = 20
    PersonFactory(user=UserFactory(username="li-lei"), phone="13600005555", verified=True)
    errors: list[str] = []
    page.on(
        "console", lambda message: errors.append(message.text) if message.type == "error" else None
    )
    login(page, live_server, "li-lei", PASSWORD, next_path="/accounts/service-code/")
    page.get_by_role("button", name="生成服务码").click()
    code = page.get_by_test_id("service-code")
    first = code.inner_text()
    seconds = page.locator("[data-countdown-seconds]")
    expect(seconds).to_be_visible()
    start = int(seconds.inner_text())
    assert 15 <= start <= 20

    # then: it counts down…
    expect(seconds).not_to_have_text(str(start), timeout=3_000)
    assert int(seconds.inner_text()) < start

    # …and before the code expires a fresh one is on screen, counting from the top again
    expect(code).not_to_have_text(first, timeout=20_000)
    expect(seconds).to_be_visible()
    assert int(seconds.inner_text()) >= 11
    assert page.locator("input[name=auto]").input_value() == "1"
    assert not [e for e in errors if "Content Security Policy" in e]
