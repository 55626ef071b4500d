"""The base layout in a real browser: landmarks, 长辈模式 and the language switch."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from django.conf import settings
from django.test import Client
from django.utils import timezone

from tests.identity.factories import UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]


def _body_font_px(page: Page) -> float:
    size = page.evaluate("() => getComputedStyle(document.body).fontSize")
    return float(size.removesuffix("px"))


def test_home_is_chinese_with_skip_link_and_landmarks(live_server, page: Page) -> None:
    # when
    page.goto(live_server.url + "/")

    # then
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page).to_have_title(re.compile("江西省一体化政务服务平台"))
    expect(page.get_by_role("heading", level=1)).to_have_text("江西省一体化政务服务平台")
    expect(page.get_by_role("banner")).to_be_visible()
    expect(page.get_by_role("navigation", name="主导航")).to_be_visible()
    expect(page.get_by_role("main")).to_have_attribute("id", "main")
    expect(page.get_by_role("contentinfo")).to_be_visible()
    expect(page.get_by_role("search").get_by_label("搜索事项")).to_have_attribute("name", "q")
    expect(page.get_by_role("link", name=re.compile("^出生"))).to_have_attribute(
        "href", "/catalog/?event=birth"
    )

    # when: the first Tab reaches the skip link, and following it moves focus to <main>
    page.keyboard.press("Tab")
    skip_link = page.get_by_role("link", name="跳到主要内容")

    # then
    expect(skip_link).to_be_focused()
    expect(skip_link).to_be_in_viewport()
    expect(skip_link).to_have_attribute("href", "#main")
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


def test_elder_mode_enlarges_text_and_is_remembered(live_server, page: Page) -> None:
    # given
    page.goto(live_server.url + "/")
    standard_px = _body_font_px(page)
    assert standard_px < 20
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "false")

    # when: the toggle is a plain form post, no JavaScript needed
    page.get_by_role("button", name="长辈模式").click()

    # then
    expect(page.locator("body")).to_have_class(re.compile(r"\belder\b"))
    expect(page.get_by_role("button", name="长辈模式")).to_have_attribute("aria-pressed", "true")
    assert _body_font_px(page) >= 20
    expect(page.locator(".decorative").first).to_be_hidden()

    # when: the page is reloaded
    page.reload()

    # then
    expect(page.locator("body")).to_have_class(re.compile(r"\belder\b"))
    assert _body_font_px(page) >= 20

    # when: another page (the 404 page, which uses the portal layout) opens in a new tab
    other = page.context.new_page()
    response = other.goto(live_server.url + "/no-such-page/")

    # then
    assert response is not None
    assert response.status == 404
    expect(other.get_by_role("heading", level=1)).to_have_text("页面未找到")
    expect(other.locator("body")).to_have_class(re.compile(r"\belder\b"))
    assert _body_font_px(other) >= 20

    # when: back to the standard mode
    other.get_by_role("button", name="标准模式").click()

    # then
    expect(other.locator("body")).not_to_have_class(re.compile(r"\belder\b"))
    assert _body_font_px(other) == standard_px


def test_language_switch_shows_english(live_server, page: Page) -> None:
    # given
    page.goto(live_server.url + "/")
    expect(page.get_by_role("link", name="首页", exact=True)).to_be_visible()

    # when
    page.get_by_role("button", name="English").click()

    # then
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("button", name="English")).to_have_attribute("aria-pressed", "true")
    nav = page.get_by_role("navigation", name="Main navigation")
    expect(nav.get_by_role("link", name="Home", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Skip to main content")).to_have_attribute("href", "#main")
    expect(page.get_by_role("heading", name="Personal services")).to_be_visible()
    expect(page.get_by_label("Search services")).to_be_visible()

    # when: back to Chinese
    page.get_by_role("button", name="简体中文").click()

    # then
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    expect(page.get_by_role("heading", name="个人办事")).to_be_visible()


def test_office_workbench_warns_when_holidays_are_missing(live_server, page: Page) -> None:
    # given: a staff user who may load the holiday arrangements (only they see the warning),
    # signed in, and no State Council arrangement entered for any year
    from django.contrib.auth.models import Permission

    clerk = UserFactory(staff=True, username="clerk-wang")
    clerk.user_permissions.add(Permission.objects.get(codename="change_calendaryear"))
    client = Client()
    client.force_login(clerk)
    session_id = client.cookies[settings.SESSION_COOKIE_NAME].value
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": session_id, "url": live_server.url}]
    )
    next_year = timezone.localdate().year + 1

    # when
    page.goto(live_server.url + "/office/")

    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("工作台")
    expect(page.get_by_role("navigation", name="工作台导航")).to_be_visible()
    expect(page.get_by_role("link", name="工作台", exact=True)).to_have_attribute(
        "aria-current", "page"
    )
    expect(page.get_by_role("banner")).to_contain_text("clerk-wang")
    alert = page.get_by_role("alert")
    expect(alert).to_contain_text(
        f"{next_year} 年国务院放假安排尚未录入，工作日暂按法定节假日推算（期限为暂定）。"
        "请管理员在后台录入或用命令导入。"
    )
    expect(alert.get_by_role("link")).to_have_attribute("href", "/admin/core/calendaryear/")
