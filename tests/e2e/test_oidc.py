"""SSO in a real browser: a department system sends the person to the portal, who signs in on
the real login page, reads the consent page, chooses the enterprise to act for and agrees; and
the step-up page when the system needs a higher real-name level.

The relying party's callback host does not exist: the browser's requests to it are answered by
Playwright (``page.route``), and the test exchanges the code at the running token endpoint.
"""

from __future__ import annotations

import json
import re
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from jwcrypto import jwk, jwt
from playwright.sync_api import Page, Route, expect

from django.conf import settings

from apps.identity.constants import AuthorisationScope
from tests.identity.factories import AgentAuthorisationFactory, verified_user
from tests.identity.oidc_factories import (
    CLIENT_SECRET,
    REDIRECT_URI,
    RelyingPartyFactory,
    authorize_url,
    pkce_pair,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"
CALLBACK = re.compile(r"^http://rp\.example\.test/callback\?")


def _answer_callbacks(page: Page) -> None:
    def fulfil(route: Route) -> None:
        route.fulfill(status=200, content_type="text/html", body="<h1>callback</h1>")

    page.route("http://rp.example.test/**", fulfil)


def _query(url: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(url).query).items()}


def test_agent_signs_in_to_a_department_system_for_an_enterprise(
    live_server, page: Page, login
) -> None:
    # given: an agent with an item-level authorisation, and a system allowed enterprise identity
    agent = verified_user("周婷")
    agent.username = "zhou-ting"
    agent.save(update_fields=["username"])
    authorisation = AgentAuthorisationFactory(
        agent=agent, scope=AuthorisationScope.ITEMS, item_codes=["000101001000"]
    )
    enterprise = authorisation.enterprise
    rp = RelyingPartyFactory(allowed_scopes="openid profile enterprise")
    verifier, challenge = pkce_pair()
    _answer_callbacks(page)

    # when: the system sends the browser to the portal; the person signs in first
    login(
        page,
        live_server,
        "zhou-ting",
        PASSWORD,
        next_path=authorize_url(rp, scope="openid profile enterprise", challenge=challenge),
    )

    # then: the consent page names the system, its department and what it will receive
    expect(page.get_by_role("heading", level=1)).to_have_text(f"授权登录“{rp.application.name}”")
    expect(page.get_by_text(rp.department.name)).to_be_visible()
    expect(page.get_by_text("基本信息：姓名、实名等级、用户类型、脱敏手机号")).to_be_visible()
    expect(page.get_by_role("radio", name="以本人身份办事")).to_be_checked()

    # when: the person chooses the enterprise and agrees
    page.get_by_role("radio", name=re.compile(enterprise.name)).check()
    page.get_by_role("button", name="同意并登录").click()

    # then: back at the system with a code, which it exchanges for tokens
    expect(page).to_have_url(CALLBACK)
    query = _query(page.url)
    assert query["state"] == "state-123"
    response = requests.post(
        live_server.url + "/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(rp.application.client_id, CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    key = jwk.JWK.from_pem(settings.OIDC_RSA_PRIVATE_KEY.encode())
    claims = json.loads(jwt.JWT(key=key, jwt=response.json()["id_token"]).claims)
    assert claims["subject_type"] == "enterprise"
    assert claims["enterprise"]["uscc"] == enterprise.uscc
    assert claims["enterprise"]["capacity"] == "agent"
    assert claims["enterprise"]["authorisation"]["item_codes"] == ["000101001000"]


def test_step_up_page_sends_the_person_back_with_the_oidc_error(
    live_server, page: Page, login
) -> None:
    # given: an L2 person and a system that needs L3
    person = verified_user("黄晓燕")
    person.username = "huang-xiaoyan"
    person.save(update_fields=["username"])
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    _answer_callbacks(page)

    # when
    login(
        page,
        live_server,
        "huang-xiaoyan",
        PASSWORD,
        next_path=authorize_url(
            rp, scope="openid profile", challenge=challenge, acr_values="urn:govportal:loa:3"
        ),
    )

    # then: the step-up page explains, and offers both ways on
    expect(page.get_by_role("heading", level=1)).to_have_text("需要提升实名等级")
    expect(page.get_by_role("alert")).to_contain_text("要求实名等级 L3 及以上，您当前为 L2")
    expect(page.get_by_role("link", name=re.compile("前往实人认证（L3）"))).to_have_attribute(
        "href", re.compile(r"^/accounts/profile/level3/\?next=%2Fo%2Fauthorize%2F")
    )

    # when: the person declines for now
    page.get_by_role("link", name="暂不提升，返回原系统").click()

    # then: the system learns why, with its state
    expect(page).to_have_url(CALLBACK)
    query = _query(page.url)
    assert query["error"] == "unmet_authentication_requirements"
    assert query["state"] == "state-123"


def test_step_up_to_l3_returns_to_the_same_sign_in(live_server, page: Page, login) -> None:
    # given: an L2 person (registered phone on file) and a system that needs L3
    person = verified_user("郑晓东", phone="13700001111")
    person.username = "zheng-xiaodong"
    person.save(update_fields=["username"])
    rp = RelyingPartyFactory()
    verifier, challenge = pkce_pair()
    _answer_callbacks(page)
    login(
        page,
        live_server,
        "zheng-xiaodong",
        PASSWORD,
        next_path=authorize_url(
            rp, scope="openid profile", challenge=challenge, acr_values="urn:govportal:loa:3"
        ),
    )
    expect(page.get_by_role("heading", level=1)).to_have_text("需要提升实名等级")

    # when: the person follows the link and passes the bank-card four-factor check
    page.get_by_role("link", name=re.compile("前往实人认证（L3）")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("实人认证（L3）")
    page.get_by_label("姓名").fill("郑晓东")
    page.get_by_label("居民身份证号码").fill(person.person.id_number)
    page.get_by_label("银行预留手机号码").fill("13700001111")
    page.get_by_label("本人银行卡号").fill("6222 0212 3456 7890 128")
    page.get_by_role("button", name="提交认证").click()

    # then: back at the same sign-in, now at L3: the consent page, then the code
    expect(page.get_by_role("heading", level=1)).to_have_text(f"授权登录“{rp.application.name}”")
    page.get_by_role("button", name="同意并登录").click()
    expect(page).to_have_url(CALLBACK)
    query = _query(page.url)
    response = requests.post(
        live_server.url + "/o/token/",
        data={
            "grant_type": "authorization_code",
            "code": query["code"],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(rp.application.client_id, CLIENT_SECRET),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    key = jwk.JWK.from_pem(settings.OIDC_RSA_PRIVATE_KEY.encode())
    claims = json.loads(jwt.JWT(key=key, jwt=response.json()["id_token"]).claims)
    assert claims["acr"] == "urn:govportal:loa:3"
