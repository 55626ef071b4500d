"""Identity pages in a real browser: login (the shared ``login`` fixture), lockout, logout."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.identity.factories import PersonFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"


def test_login_fixture_signs_in_by_username_and_logout_signs_out(
    live_server, page: Page, login
) -> None:
    # given
    PersonFactory(user=UserFactory(username="zhao-liu"), phone="13600001111")

    # when
    login(page, live_server, "zhao-liu", PASSWORD)

    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("个人中心")
    expect(page.get_by_test_id("masked-phone")).to_have_text("136****1111")

    # when
    page.get_by_role("banner").get_by_role("button", name="退出登录").click()

    # then
    expect(page.get_by_role("status")).to_contain_text("您已安全退出")
    expect(page.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()


def test_login_by_phone_and_lockout_page(live_server, page: Page, login) -> None:
    # given
    PersonFactory(user=UserFactory(username="qian-qi"), phone="13600002222")

    # when: five wrong passwords
    page.goto(live_server.url + "/accounts/login/")
    for attempt in range(5):
        page.get_by_label("用户名或手机号码").fill("13600002222")
        page.get_by_label("密码", exact=True).fill(f"wrong-{attempt}")
        page.get_by_role("button", name="登录", exact=True).click()
        if attempt < 4:
            expect(page.get_by_role("alert")).to_contain_text("用户名（手机号码）或密码不正确")

    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("账号已临时锁定")
    expect(page.get_by_role("alert")).to_contain_text("请在 15 分钟后再试")


def test_login_by_phone_lands_on_next(live_server, page: Page, login) -> None:
    # given
    PersonFactory(user=UserFactory(username="sun-ba"), phone="13600003333")

    # when
    login(page, live_server, "13600003333", PASSWORD, next_path="/cases/mine/")

    # then
    expect(page).to_have_url(live_server.url + "/cases/mine/")
