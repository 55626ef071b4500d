"""Account pages: login (username or phone), lockout, logout, registration, staff timeout."""

import re
from datetime import timedelta
from io import StringIO

import pytest
import time_machine
from axes.models import AccessAttempt

from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.identity.backends import login_key
from apps.identity.models import PhoneCode, User
from tests.identity.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"  # UserFactory's password
PHONE = "13712345678"


@pytest.fixture
def citizen_account():
    return PersonFactory(user=UserFactory(username="li-lei"), phone=PHONE).user


def _login(client: Client, username: str, password: str, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


# --- login ------------------------------------------------------------------------------------


def test_login_page_is_chinese_and_cheap(client, django_assert_max_num_queries) -> None:
    # when: anonymous, no session yet -> no queries at all
    with django_assert_max_num_queries(0):
        response = client.get("/accounts/login/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<h1>用户登录</h1>" in html
    assert 'for="id_username">用户名或手机号码' in html
    assert 'autocomplete="current-password"' in html
    assert "连续输错密码 5 次后账号将被临时锁定" in html


@pytest.mark.parametrize(("_case", "login_name"), [("username", "li-lei"), ("phone", PHONE)])
def test_login_by_username_or_phone(client, citizen_account, _case, login_name) -> None:
    # when
    response = _login(client, login_name, PASSWORD)

    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    assert client.get("/accounts/profile/").context["user"] == citizen_account


def test_login_follows_a_safe_next_only(client, citizen_account) -> None:
    response = _login(client, "li-lei", PASSWORD, next="/cases/mine/")
    assert response["Location"] == "/cases/mine/"

    other = Client()
    response = _login(other, "li-lei", PASSWORD, next="https://evil.example.com/")
    assert response["Location"] == "/accounts/profile/"


def test_wrong_password_is_refused_in_chinese(client, citizen_account) -> None:
    # when
    response = _login(client, "li-lei", "wrong-password")

    # then
    assert response.status_code == 200
    assert "用户名（手机号码）或密码不正确" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_protected_page_redirects_to_the_portal_login(client) -> None:
    response = client.get("/accounts/profile/")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/?next=/accounts/profile/"


# --- lockout (django-axes) --------------------------------------------------------------------


def test_lockout_after_five_failures_even_with_the_right_password(client, citizen_account) -> None:
    # given: five failures, mixing username and phone (they count for the same account)
    for attempt in range(5):
        _login(client, "li-lei" if attempt % 2 else PHONE, f"wrong-{attempt}")

    # when
    response = _login(client, "li-lei", PASSWORD)

    # then
    assert response.status_code == 429
    html = response.content.decode()
    assert "账号已临时锁定" in html
    assert "连续 5 次登录失败" in html
    assert "请在 15 分钟后再试" in html
    assert "_auth_user_id" not in client.session
    # another browser is locked out as well: the lock is on the account
    assert _login(Client(), PHONE, PASSWORD).status_code == 429


def test_four_failures_do_not_lock_and_a_success_resets_the_count(client, citizen_account) -> None:
    # given
    for attempt in range(4):
        _login(client, "li-lei", f"wrong-{attempt}")

    # when
    response = _login(client, "li-lei", PASSWORD)

    # then
    assert response.status_code == 302
    other = Client()
    for attempt in range(4):
        _login(other, "li-lei", f"wrong-again-{attempt}")
    assert _login(other, "li-lei", PASSWORD).status_code == 302


def test_lockout_ends_after_the_cool_off(client, citizen_account) -> None:
    # given
    for attempt in range(5):
        _login(client, "li-lei", f"wrong-{attempt}")
    assert _login(client, "li-lei", PASSWORD).status_code == 429

    # when: 16 minutes later
    with time_machine.travel(timezone.now() + timedelta(minutes=16)):
        response = _login(client, "li-lei", PASSWORD)

    # then
    assert response.status_code == 302


def test_lockout_of_one_account_leaves_others_alone(client, citizen_account) -> None:
    # given
    UserFactory(username="han-meimei")
    for attempt in range(5):
        _login(client, "li-lei", f"wrong-{attempt}")

    # when
    response = _login(client, "han-meimei", PASSWORD)

    # then
    assert response.status_code == 302


def test_axes_records_a_keyed_hash_never_the_typed_phone_or_id_number(client, citizen_account):
    # given: failures typed as the registered phone, an unregistered phone and an ID number
    id_number = "11010519491231002X"
    for typed in (PHONE, "13612349876", id_number):
        _login(client, typed, "wrong-password")

    # then: two accounts' keys (the registered phone counts for li-lei), nothing in clear
    rows = list(AccessAttempt.objects.order_by("id"))
    assert len(rows) == 3
    assert rows[0].username == login_key("li-lei") == login_key(PHONE)
    for row in rows:
        assert row.username.startswith("login:")
        stored = f"{row.username} {row.post_data} {row.get_data}"
        for secret in (PHONE, "13612349876", id_number, "li-lei"):
            assert secret not in stored


def test_unlock_login_command_lifts_the_lock_by_phone(client, citizen_account) -> None:
    # given
    for attempt in range(5):
        _login(client, "li-lei", f"wrong-{attempt}")
    assert _login(client, "li-lei", PASSWORD).status_code == 429

    # when
    out = StringIO()
    call_command("unlock_login", PHONE, stdout=out)

    # then
    assert out.getvalue().strip() == "1"
    assert _login(client, "li-lei", PASSWORD).status_code == 302


# --- logout -----------------------------------------------------------------------------------


def test_logout_is_post_only(client, citizen_account) -> None:
    client.force_login(citizen_account)
    assert client.get("/accounts/logout/").status_code == 405
    assert "_auth_user_id" in client.session


def test_logout_ends_only_this_session(client, citizen_account) -> None:
    # given
    other = Client()
    other.force_login(citizen_account)
    client.force_login(citizen_account)

    # when
    response = client.post("/accounts/logout/", follow=True)

    # then
    assert "您已安全退出" in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302
    assert other.get("/accounts/profile/").status_code == 200


def test_logout_everywhere_ends_every_session(client, citizen_account) -> None:
    # given
    other = Client()
    other.force_login(citizen_account)
    client.force_login(citizen_account)

    # when
    response = client.post("/accounts/logout/", {"everywhere": "1"}, follow=True)

    # then
    assert "已在所有设备上退出登录" in response.content.decode()
    assert client.get("/accounts/profile/").status_code == 302
    assert other.get("/accounts/profile/").status_code == 302
    assert AuditEvent.objects.filter(action="identity.sessions_ended").count() == 1
    # and a fresh login works
    assert _login(Client(), "li-lei", PASSWORD).status_code == 302


# --- registration -----------------------------------------------------------------------------


def _code_from(outbox) -> str:
    return re.search(r"验证码是(\d{6})", outbox[-1].text).group(1)


def test_register_page_renders_without_queries(client, django_assert_max_num_queries) -> None:
    with django_assert_max_num_queries(0):
        response = client.get("/accounts/register/")
    html = response.content.decode()
    assert "<h1>注册账号</h1>" in html
    assert 'name="action" value="send_code"' in html
    assert 'autocomplete="one-time-code"' in html


def test_registration_journey_without_javascript(
    client, sms_outbox, django_capture_on_commit_callbacks, django_assert_max_num_queries
) -> None:
    # when: "获取验证码" posts the phone number alone
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/accounts/register/", {"action": "send_code", "phone": PHONE})

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "验证码已发送" in html
    assert f'value="{PHONE}"' in html
    assert sms_outbox[-1].to == PHONE

    # when: the whole form
    # queries: username check (form); register_person: SAVEPOINT, code row FOR UPDATE, code
    # UPDATE, SAVEPOINT, username + phone checks, INSERT user/person/raise, audit (SAVEPOINT,
    # head FOR UPDATE, [head INSERT + re-read on the database's first event], INSERT event,
    # head UPDATE, RELEASE), RELEASE x2; login: session exists + INSERT (SAVEPOINT/RELEASE),
    # axes attempts read + access log INSERT + attempts read, last_login UPDATE, staff check;
    # session UPDATE (SAVEPOINT/RELEASE)
    with django_assert_max_num_queries(31):
        response = client.post(
            "/accounts/register/",
            {
                "action": "register",
                "phone": PHONE,
                "code": _code_from(sms_outbox),
                "username": "xiao-ming",
                "password1": "a-long-passphrase-7",
                "password2": "a-long-passphrase-7",
            },
        )

    # then: registered at L1 and signed in
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/"
    user = User.objects.get(username="xiao-ming")
    assert user.person.phone == PHONE
    profile = client.get("/accounts/profile/").content.decode()
    assert "137****5678" in profile
    assert PHONE not in profile


def test_registration_with_a_wrong_code_shows_the_error_on_the_code_field(
    client, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/accounts/register/", {"action": "send_code", "phone": PHONE})
    wrong = f"{(int(_code_from(sms_outbox)) + 1) % 10**6:06d}"

    # when
    response = client.post(
        "/accounts/register/",
        {
            "phone": PHONE,
            "code": wrong,
            "username": "xiao-ming",
            "password1": "a-long-passphrase-7",
            "password2": "a-long-passphrase-7",
        },
    )

    # then
    assert response.status_code == 200
    assert response.context["form"].errors["code"] == ["验证码不正确，还可尝试4次"]
    assert User.objects.filter(username="xiao-ming").count() == 0
    assert PhoneCode.objects.get().attempts == 1


@pytest.mark.parametrize(
    ("_case", "changes", "field", "message"),
    [
        ("numeric username", {"username": "13800001111"}, "username", "用户名不能是纯数字"),
        ("password mismatch", {"password2": "other-pass-9"}, "password2", "两次输入的密码不一致"),
        ("short code", {"code": "123"}, "code", "请输入6位数字验证码"),
        ("bad phone", {"phone": "12345"}, "phone", "请输入11位中国大陆手机号码"),
        (
            "numeric password",
            {"password1": "8472910365", "password2": "8472910365"},
            "password1",
            "密码只包含数字",
        ),
    ],
)
def test_registration_form_errors_are_chinese(client, _case, changes, field, message) -> None:
    # given
    data = {
        "phone": PHONE,
        "code": "123456",
        "username": "xiao-ming",
        "password1": "a-long-passphrase-7",
        "password2": "a-long-passphrase-7",
        **changes,
    }

    # when
    response = client.post("/accounts/register/", data)

    # then
    assert response.status_code == 200
    assert any(message in error for error in response.context["form"].errors[field])
    assert User.objects.filter(username=data["username"]).count() == 0


def test_send_code_to_a_bad_number_shows_an_error(client, sms_outbox) -> None:
    response = client.post("/accounts/register/", {"action": "send_code", "phone": "1234"})
    assert "请输入11位中国大陆手机号码" in response.content.decode()
    assert sms_outbox == []


# --- staff idle timeout -----------------------------------------------------------------------


def test_staff_session_ends_after_thirty_idle_minutes(client, clerk) -> None:
    # given
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(clerk)

    # when: active at +20 min (refreshes the idle clock) and at +45 min
    with time_machine.travel(start + timedelta(minutes=20), tick=False):
        assert client.get("/accounts/profile/").status_code == 200
    with time_machine.travel(start + timedelta(minutes=45), tick=False):
        assert client.get("/accounts/profile/").status_code == 200
    # then: 31 idle minutes later the session is over, with a message saying why
    with time_machine.travel(start + timedelta(minutes=76), tick=False):
        response = client.get("/accounts/profile/")
        assert response.status_code == 302
        assert response["Location"] == "/accounts/login/?next=/accounts/profile/"
        page = client.get(response["Location"]).content.decode()
    assert "您已超过30分钟未操作" in page
    assert "_auth_user_id" not in client.session


def test_citizen_session_is_not_cut_after_thirty_minutes(client, citizen_account) -> None:
    # given
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(citizen_account)

    # when
    with time_machine.travel(start + timedelta(minutes=90), tick=False):
        response = client.get("/accounts/profile/")

    # then
    assert response.status_code == 200


def test_staff_idle_minutes_is_a_setting(client, clerk, settings) -> None:
    # given
    settings.STAFF_SESSION_IDLE_MINUTES = 5
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client.force_login(clerk)

    # when
    with time_machine.travel(start + timedelta(minutes=6), tick=False):
        response = client.get("/accounts/profile/")

    # then
    assert response.status_code == 302
