"""Issue 15 §5: every kind of page carries a strict Content-Security-Policy.

Strict means: scripts and styles only from this origin, no 'unsafe-inline' or 'unsafe-eval',
nothing from another host, no plugins, no framing. The pages' markup has no inline <script>,
no on…= handler and no style="" (tests/e2e/test_phone.py also watches the browser for
violations while it walks every page).
"""

from __future__ import annotations

import re

import pytest

from django.test import Client

from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db


def _policy(response) -> dict[str, list[str]]:
    header = response.headers["Content-Security-Policy"]
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _assert_strict(policy: dict[str, list[str]]) -> None:
    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["img-src"] == ["'self'", "data:"]


INLINE_SCRIPT = re.compile(rb"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
INLINE_HANDLER = re.compile(rb"\son[a-z]+\s*=", re.IGNORECASE)
INLINE_STYLE = re.compile(rb"<style\b|\sstyle\s*=", re.IGNORECASE)


def _assert_no_inline_code(content: bytes) -> None:
    assert INLINE_SCRIPT.findall(content) == []
    assert INLINE_HANDLER.findall(content) == []
    assert INLINE_STYLE.findall(content) == []


@pytest.mark.parametrize(
    ("_case", "path", "status"),
    [
        ("home", "/", 200),
        ("catalogue", "/catalog/", 200),
        ("search", "/catalog/search/?q=身份证", 200),
        ("login", "/accounts/login/", 200),
        ("register", "/accounts/register/", 200),
        ("not found", "/no-such-page/", 404),
    ],
)
def test_public_pages_send_the_strict_policy(client: Client, _case, path, status) -> None:
    # when: home, catalogue, search and the 404 page: no session, 2 queries at most each
    # (the published-catalogue reads; the 404 page none)
    response = client.get(path)

    # then
    assert response.status_code == status
    _assert_strict(_policy(response))
    _assert_no_inline_code(response.content)


def test_citizen_pages_send_the_strict_policy(
    client: Client, django_assert_max_num_queries
) -> None:
    # given
    citizen = UserFactory()
    client.force_login(citizen)

    # when: session, user, the citizen's cases (count and page)
    with django_assert_max_num_queries(8):
        mine = client.get("/cases/mine/")
    profile = client.get("/accounts/profile/")

    # then
    for response in (mine, profile):
        assert response.status_code == 200
        _assert_strict(_policy(response))
        _assert_no_inline_code(response.content)


def test_office_pages_send_the_strict_policy(client: Client, clerk) -> None:
    # given
    client.force_login(clerk)

    # when
    queue = client.get("/office/cases/")
    intake = client.get("/office/intake/")

    # then
    for response in (queue, intake):
        assert response.status_code == 200
        _assert_strict(_policy(response))
        _assert_no_inline_code(response.content)


def test_forbidden_page_sends_the_strict_policy(client: Client) -> None:
    # given: a citizen, not staff
    client.force_login(UserFactory())

    # when
    response = client.get("/office/cases/")

    # then
    assert response.status_code == 403
    _assert_strict(_policy(response))
    _assert_no_inline_code(response.content)


@pytest.mark.urls("tests.core.csp_urls")
def test_server_error_page_sends_the_strict_policy() -> None:
    # given
    client = Client(raise_request_exception=False)

    # when
    response = client.get("/__broken__/")

    # then
    assert response.status_code == 500
    _assert_strict(_policy(response))
    _assert_no_inline_code(response.content)


def test_admin_sends_the_strict_policy(client: Client) -> None:
    # given
    client.force_login(UserFactory(admin=True))

    # when
    login_page = Client().get("/admin/login/")
    index = client.get("/admin/")

    # then
    for response in (login_page, index):
        assert response.status_code == 200
        _assert_strict(_policy(response))
        _assert_no_inline_code(response.content)


def test_api_docs_run_under_the_strict_policy(client: Client) -> None:
    # when: Swagger UI's page, and its start-up script served as a file of its own
    page = client.get("/api/docs/")
    script = client.get("/api/docs/", {"script": ""})

    # then
    assert page.status_code == 200
    _assert_strict(_policy(page))
    _assert_no_inline_code(page.content)
    assert b'<script src="/api/docs/?script="></script>' in page.content
    assert script.status_code == 200
    assert b"SwaggerUIBundle" in script.content


def test_redoc_relaxes_only_styles_and_workers(client: Client) -> None:
    # when
    response = client.get("/api/redoc/")

    # then: Redoc injects its styles at run time and parses in a blob: worker; scripts stay
    # strict and nothing is fetched from another host (no web fonts)
    policy = _policy(response)
    assert response.status_code == 200
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    assert policy["worker-src"] == ["'self'", "blob:"]
    assert INLINE_SCRIPT.findall(response.content) == []
    assert b"googleapis" not in response.content


def test_api_responses_carry_the_policy(client: Client) -> None:
    # when
    response = client.get("/api/v1/catalog/items/")

    # then
    assert response.status_code == 200
    _assert_strict(_policy(response))
