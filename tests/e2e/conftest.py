"""Browser fixtures for end-to-end journeys (DEVELOPERS.md: marker ``e2e``).

Playwright drives Debian's ``chromium`` through ``executable_path``; browsers are never
downloaded (the machines may be offline). One browser per test session, one fresh context (no
cookies) and page per test.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

# Playwright's sync API runs an asyncio event loop in this thread; Django's ORM would otherwise
# refuse to run in the test body ("SynchronousOnlyOperation").
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

E2E_DIR = Path(__file__).resolve().parent
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test under tests/e2e is an e2e test, whether or not its module says so."""
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(executable).exists():
        pytest.fail(f"chromium not found at {executable}: run scripts/ensure_system.sh")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    """A fresh page in its own browser context: no cookies carried over between tests."""
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def login() -> Callable[..., None]:
    """Sign in through the real login page: ``login(page, live_server, username, password)``.

    ``username`` may also be the account's mobile number. Lands on ``next_path`` (the profile
    page by default) and fails the test if the login page refuses the credentials. Accounts
    made by factories have the password ``correct-horse-battery``.
    """

    def _login(
        page: Page,
        live_server: object,
        username: str,
        password: str,
        *,
        next_path: str = "/accounts/profile/",
    ) -> None:
        base = str(getattr(live_server, "url", live_server))
        page.goto(f"{base}/accounts/login/?next={quote(next_path)}")
        page.get_by_label("用户名或手机号码").fill(username)
        page.get_by_label("密码", exact=True).fill(password)
        page.get_by_role("button", name="登录", exact=True).click()
        expect(page).not_to_have_url(re.compile(r"/accounts/login/"))

    return _login
