"""Per-address login throttling (apps/identity/throttle.py): password spraying across many
accounts from one address is braked, whatever account is named; other addresses are not."""

from datetime import timedelta

import pytest
import time_machine

from django.test import Client
from django.utils import timezone

from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's password
SPRAYER = "203.0.113.7"
NEIGHBOUR = "198.51.100.20"


def _login(client: Client, username: str, password: str, address: str = SPRAYER):
    return client.post(
        "/accounts/login/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


@pytest.fixture
def limit_three(settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 3
    settings.LOGIN_IP_WINDOW_MINUTES = 10


def test_failures_across_accounts_from_one_address_get_the_chinese_429(client, limit_three):
    # given: one failure each for three different accounts (no account reaches axes' limit)
    victim = UserFactory(username="wang-fang")
    for name in ("zhang-wei", "li-na", "liu-yang"):
        UserFactory(username=name)
        assert _login(client, name, "Spring2026!").status_code == 200

    # when: a fourth attempt, even with the right password of yet another account
    other_browser = Client()
    response = _login(other_browser, victim.username, PASSWORD)

    # then
    assert response.status_code == 429
    html = response.content.decode()
    assert "登录尝试过于频繁" in html
    assert "10 分钟内登录失败次数过多" in html
    assert 0 < int(response["Retry-After"]) <= 600
    assert "_auth_user_id" not in other_browser.session
    # another address is not affected
    assert _login(Client(), victim.username, PASSWORD, address=NEIGHBOUR).status_code == 302


def test_below_the_limit_and_successes_do_not_throttle(client, limit_three):
    # given: two failures and three successful logins from the address
    user = UserFactory(username="zhao-lei")
    for attempt in range(2):
        _login(Client(), "zhao-lei", f"wrong-{attempt}")
    for _ in range(3):
        assert _login(Client(), "zhao-lei", PASSWORD).status_code == 302

    # then: still allowed, and the login page itself is always shown
    assert _login(client, user.username, PASSWORD).status_code == 302
    assert Client().get("/accounts/login/", REMOTE_ADDR=SPRAYER).status_code == 200


def test_throttle_ends_with_the_window(client, limit_three):
    # given
    UserFactory(username="sun-li")
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        for attempt in range(3):
            _login(Client(), f"nobody-{attempt}", "wrong")
        assert _login(Client(), "sun-li", PASSWORD).status_code == 429

    # when: the next window
    with time_machine.travel(start + timedelta(minutes=11), tick=False):
        response = _login(client, "sun-li", PASSWORD)

    # then
    assert response.status_code == 302


def test_admin_login_is_throttled_too(client, limit_three):
    # given
    for attempt in range(3):
        _login(Client(), f"nobody-{attempt}", "wrong")

    # when
    response = Client().post(
        "/admin/login/",
        {"username": "admin", "password": "whatever", "next": "/admin/"},
        REMOTE_ADDR=SPRAYER,
    )

    # then
    assert response.status_code == 429


def test_limit_zero_disables_the_throttle(client, settings):
    settings.LOGIN_IP_FAILURE_LIMIT = 0
    UserFactory(username="qian-jin")
    for attempt in range(6):
        _login(Client(), f"nobody-{attempt}", "wrong")
    assert _login(client, "qian-jin", PASSWORD).status_code == 302
