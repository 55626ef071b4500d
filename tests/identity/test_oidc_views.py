"""The SSO provider through Django's test client: discovery, consent, scopes, PKCE, acr and
step-up, claims, the enterprise chooser, staff roles, refresh, audit of ID-number releases.

The same flow against the running server with a real OIDC client library is in
``test_oidc_flow.py``.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from jwcrypto import jwk, jwt

from django.conf import settings
from django.shortcuts import resolve_url
from django.test import Client
from django.utils import timezone
from oauth2_provider.models import Grant

from apps.audit.models import AuditEvent
from apps.identity.constants import AssuranceLevel, AuthorisationScope, StaffRole
from apps.identity.models import SsoSignIn
from apps.identity.oidc_claims import pairwise_subject
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    StaffMembershipFactory,
    verified_user,
)
from tests.identity.oidc_factories import (
    CLIENT_SECRET,
    REDIRECT_URI,
    RelyingPartyFactory,
    authorize_url,
    consent_data,
    pkce_pair,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.django_db


def id_token_claims(token: str) -> dict:
    """Verify with the provider's key (the live test fetches it over HTTP instead)."""
    key = jwk.JWK.from_pem(settings.OIDC_RSA_PRIVATE_KEY.encode())
    return json.loads(jwt.JWT(key=key, jwt=token).claims)


def userinfo(token: str) -> dict:
    response = Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def person(client: Client):
    user = verified_user("王小明", phone="13800000009")
    client.force_login(user)
    return user


# --- discovery and keys ------------------------------------------------------------------------


def test_discovery_is_at_the_site_root_and_lists_what_is_supported(client: Client) -> None:
    # when
    response = client.get("/.well-known/openid-configuration")
    # then
    assert response.status_code == 200
    data = response.json()
    assert data["issuer"] == "http://testserver"
    assert data["token_endpoint"] == "http://testserver/o/token/"
    assert data["jwks_uri"] == "http://testserver/.well-known/jwks.json"
    assert data["userinfo_endpoint"] == "http://testserver/o/userinfo/"
    assert data["subject_types_supported"] == ["pairwise"]
    assert data["response_types_supported"] == ["code"]
    assert data["code_challenge_methods_supported"] == ["S256"]
    assert "client_credentials" in data["grant_types_supported"]
    assert data["acr_values_supported"] == [f"urn:govportal:loa:{n}" for n in (1, 2, 3, 4)]
    assert data["id_token_signing_alg_values_supported"] == ["RS256"]
    assert {"acr", "sub", "enterprise", "id_number"} <= set(data["claims_supported"])


@pytest.mark.parametrize(
    ("_case", "path"),
    [
        ("discovery_not_under_o", "/o/.well-known/openid-configuration"),
        ("no_self_service_app_registration", "/o/applications/register/"),
        ("no_dynamic_registration", "/o/register/"),
        ("no_device_flow", "/o/device-authorization/"),
    ],
)
def test_only_the_sso_routes_are_mounted(client: Client, person, _case: str, path: str) -> None:
    assert client.get(path).status_code == 404


def test_jwks_publishes_the_configured_signing_key(client: Client) -> None:
    # given
    expected = jwk.JWK.from_pem(settings.OIDC_RSA_PRIVATE_KEY.encode())
    # when
    keys = client.get("/.well-known/jwks.json").json()["keys"]
    # then
    assert len(keys) == 1
    assert keys[0]["kid"] == expected.thumbprint()
    assert keys[0]["n"] == json.loads(expected.export_public())["n"]
    assert "d" not in keys[0]


# --- consent page --------------------------------------------------------------------------------


def test_consent_page_in_chinese_names_department_and_scopes(
    client: Client, person, django_assert_max_num_queries
) -> None:
    # given
    rp = RelyingPartyFactory(allowed_scopes="openid profile phone")
    _, challenge = pkce_pair()
    url = authorize_url(rp, scope="openid profile phone", challenge=challenge)
    # when: session, user, application, its relying party and API client (scopes backend),
    # application again (DOT view), acting enterprises (none), relying party + department
    # (context), person (masked name, level)
    with django_assert_max_num_queries(10):
        response = client.get(url)
    # then
    assert response.status_code == 200
    page = response.content.decode()
    assert f"授权登录“{rp.application.name}”" in page
    assert rp.department.name in page
    assert "基本信息：姓名、实名等级、用户类型、脱敏手机号" in page
    assert "完整手机号码" in page
    assert "王*明" in page
    assert "选择办事身份" not in page  # no enterprise scope asked


def test_unknown_redirect_uri_shows_an_error_page_and_does_not_redirect(
    client: Client, person
) -> None:
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    url = authorize_url(rp, scope="openid", challenge=challenge).replace(
        "rp.example.test", "evil.example.test"
    )
    response = client.get(url)
    assert response.status_code == 400
    assert "无法完成授权登录" in response.content.decode()


def test_anonymous_visitor_is_sent_to_login(client: Client) -> None:
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    response = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    assert response.status_code == 302
    assert response["Location"].startswith(resolve_url(settings.LOGIN_URL))


# --- scopes, PKCE, denial --------------------------------------------------------------------


def test_scope_beyond_the_relying_partys_allowance_is_refused(client: Client, person) -> None:
    # given: allowed openid profile only
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    # when
    response = client.get(authorize_url(rp, scope="openid profile idcard", challenge=challenge))
    # then
    assert response.status_code == 302
    query = query_of(response["Location"])
    assert response["Location"].startswith(REDIRECT_URI)
    assert query["error"] == "invalid_scope"
    assert query["state"] == "state-123"
    assert Grant.objects.count() == 0


def test_scope_added_to_the_consent_form_is_refused(client: Client, person) -> None:
    # given
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid profile", challenge=challenge))
    # when: the hidden scope field is tampered with
    response = client.post("/o/authorize/", consent_data(page, scope="openid profile idcard"))
    # then
    assert query_of(response["Location"])["error"] == "invalid_scope"
    assert Grant.objects.count() == 0
    assert SsoSignIn.objects.count() == 0


@pytest.mark.parametrize(
    ("_case", "extra"),
    [
        ("no_challenge", {"code_challenge": "", "code_challenge_method": ""}),
        ("plain_method", {"code_challenge_method": "plain"}),
    ],
)
def test_authorization_needs_s256_pkce(client: Client, person, _case: str, extra: dict) -> None:
    rp = RelyingPartyFactory()
    response = client.get(authorize_url(rp, scope="openid", challenge="x" * 43, **extra))
    assert response.status_code == 302
    assert query_of(response["Location"])["error"] == "invalid_request"
    assert Grant.objects.count() == 0


def test_code_exchange_needs_the_verifier(client: Client, person) -> None:
    # given
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    code = query_of(client.post("/o/authorize/", consent_data(page))["Location"])["code"]
    # when: the wrong verifier
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": pkce_pair()[0],
            "client_id": rp.application.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    # then
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_refusing_consent_returns_access_denied(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    response = client.post("/o/authorize/", consent_data(page, allow=None))
    assert query_of(response["Location"])["error"] == "access_denied"
    assert SsoSignIn.objects.count() == 0


def test_consent_is_asked_at_every_sign_in(client: Client, person) -> None:
    # given: an earlier sign-in with the same scopes
    rp = RelyingPartyFactory()
    sign_in(client, rp)
    _, challenge = pkce_pair()
    # when: the client asks to skip the consent page
    response = client.get(
        authorize_url(rp, scope="openid profile", challenge=challenge, approval_prompt="auto")
    )
    # then
    assert response.status_code == 200
    assert "同意并登录" in response.content.decode()


def test_inactive_relying_party_cannot_start_a_sign_in(client: Client, person) -> None:
    rp = RelyingPartyFactory(is_active=False)
    _, challenge = pkce_pair()
    response = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    assert query_of(response["Location"])["error"] == "unauthorized_client"


# --- acr and step-up ----------------------------------------------------------------------


def test_acr_is_the_level_at_consent(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    tokens = sign_in(client, rp)
    claims = id_token_claims(tokens["id_token"])
    assert claims["acr"] == "urn:govportal:loa:2"
    assert userinfo(tokens["access_token"])["acr"] == "urn:govportal:loa:2"


def test_acr_values_above_the_persons_level_ask_for_step_up(client: Client, person) -> None:
    # given: an L2 person, a system asking for L3
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    url = authorize_url(rp, scope="openid", challenge=challenge, acr_values="urn:govportal:loa:3")
    # when
    response = client.get(url)
    # then: the step-up page, with a way to raise the level and a way back with the OIDC error
    assert response.status_code == 403
    page = response.content.decode()
    assert "要求实名等级 L3 及以上，您当前为 L2" in page
    decline = response.context["decline_url"]
    assert decline.startswith(REDIRECT_URI)
    query = query_of(decline)
    assert query["error"] == "unmet_authentication_requirements"
    assert query["state"] == "state-123"
    assert query["iss"] == "http://testserver"
    assert response.context["profile_url"].startswith("/accounts/profile/level3/?next=")
    assert "next=%2Fo%2Fauthorize%2F" in response.context["profile_url"]
    assert Grant.objects.count() == 0


def test_step_up_also_guards_the_consent_post(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    response = client.post("/o/authorize/", consent_data(page, acr_values="urn:govportal:loa:4"))
    assert response.status_code == 403
    assert Grant.objects.count() == 0


@pytest.mark.parametrize(
    ("_case", "level", "extra", "acr"),
    [
        ("level_meets_request", AssuranceLevel.L3, {"acr_values": "urn:govportal:loa:3"}, 3),
        (
            "higher_level_satisfies_lower",
            AssuranceLevel.L4,
            {"acr_values": "urn:govportal:loa:2"},
            4,
        ),
        (
            "any_listed_value_is_acceptable",
            AssuranceLevel.L2,
            {"acr_values": "urn:govportal:loa:4 urn:govportal:loa:2"},
            2,
        ),
        ("unknown_values_are_ignored", AssuranceLevel.L2, {"acr_values": "urn:other:gold"}, 2),
    ],
)
def test_acr_values_honoured(
    client: Client, person, _case: str, level: int, extra: dict, acr: int
) -> None:
    # given
    person.person.assurance_level = level
    person.person.save(update_fields=["assurance_level"])
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    # when
    page = client.get(authorize_url(rp, scope="openid", challenge=challenge, **extra))
    # then
    assert page.status_code == 200
    redirect = client.post("/o/authorize/", consent_data(page))
    assert "code" in query_of(redirect["Location"])
    assert SsoSignIn.objects.get().acr_level == acr


def test_essential_acr_in_the_claims_parameter_is_honoured(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    _, challenge = pkce_pair()
    claims = {"id_token": {"acr": {"essential": True, "values": ["urn:govportal:loa:3"]}}}
    response = client.get(
        authorize_url(rp, scope="openid", challenge=challenge, claims=json.dumps(claims))
    )
    assert response.status_code == 403
    assert response.context["required"] == 3


# --- pairwise subject ------------------------------------------------------------------------


def test_sub_is_pairwise_per_client_and_stable(client: Client, person) -> None:
    # given
    first, second = RelyingPartyFactory(), RelyingPartyFactory()
    # when
    sub_first = id_token_claims(sign_in(client, first)["id_token"])["sub"]
    sub_again = id_token_claims(sign_in(client, first)["id_token"])["sub"]
    sub_second = id_token_claims(sign_in(client, second)["id_token"])["sub"]
    # then
    assert sub_first == sub_again
    assert sub_first != sub_second
    assert str(person.pk) not in (sub_first, sub_second)
    assert sub_first == pairwise_subject(person.pk, f"client:{first.application.client_id}")


def test_clients_sharing_a_sector_share_the_sub(client: Client, person) -> None:
    web = RelyingPartyFactory(sector_identifier="dept-x")
    app = RelyingPartyFactory(sector_identifier="dept-x", department=web.department)
    assert (
        id_token_claims(sign_in(client, web)["id_token"])["sub"]
        == id_token_claims(sign_in(client, app)["id_token"])["sub"]
    )


# --- claims by scope ----------------------------------------------------------------------


def test_profile_claims_come_from_userinfo_with_the_phone_masked(client: Client, person) -> None:
    # given
    rp = RelyingPartyFactory()
    # when
    tokens = sign_in(client, rp)
    # then
    info = userinfo(tokens["access_token"])
    assert info["name"] == "王小明"
    assert info["real_name_verified"] is True
    assert info["masked_phone_number"] == "138****0009"
    assert "phone_number" not in info
    assert "id_number" not in info
    assert info["subject_type"] == "person"
    # the ID token carries no personal data (it travels through browsers as id_token_hint)
    claims = id_token_claims(tokens["id_token"])
    assert "name" not in claims
    assert "masked_phone_number" not in claims


def test_phone_scope_releases_the_full_number(client: Client, person) -> None:
    rp = RelyingPartyFactory(allowed_scopes="openid phone")
    info = userinfo(sign_in(client, rp, scope="openid phone")["access_token"])
    assert info["phone_number"] == "13800000009"
    assert info["phone_number_verified"] is True
    assert "name" not in info


def test_id_number_only_for_granted_clients_and_every_release_audited(
    client: Client, person
) -> None:
    # given: a relying party granted idcard with its legal basis
    rp = RelyingPartyFactory(with_idcard=True)
    tokens = sign_in(client, rp, scope="openid idcard")
    # when: userinfo twice
    first = userinfo(tokens["access_token"])
    userinfo(tokens["access_token"])
    # then
    assert first["id_number"] == person.person.id_number
    assert first["id_type"] == "111"
    assert "id_number" not in id_token_claims(tokens["id_token"])
    events = AuditEvent.objects.filter(action="identity.oidc_id_number_released").order_by("seq")
    assert events.count() == 2
    event = events.first()
    assert event.object_id == str(person.pk)
    assert event.data["client_id"] == rp.application.client_id
    assert event.data["legal_basis"] == rp.id_number_legal_basis
    assert event.data["channel"] == "userinfo"
    assert event.data["sub"] == first["sub"]
    assert person.person.id_number not in json.dumps(event.data)


def test_narrowing_a_relying_party_applies_to_tokens_already_issued(client: Client, person) -> None:
    rp = RelyingPartyFactory(with_idcard=True)
    tokens = sign_in(client, rp, scope="openid idcard")
    rp.allowed_scopes = "openid"
    rp.save(update_fields=["allowed_scopes"])
    assert "id_number" not in userinfo(tokens["access_token"])
    assert not AuditEvent.objects.filter(action="identity.oidc_id_number_released").exists()


def test_deactivated_relying_party_tokens_stop_working(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    tokens = sign_in(client, rp)
    rp.is_active = False
    rp.save(update_fields=["is_active"])
    response = Client().get("/o/userinfo/", HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert response.status_code == 401


def test_consent_is_audited(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    sign_in(client, rp)
    event = AuditEvent.objects.get(action="identity.sso_consented")
    assert event.actor_id == person.pk
    assert event.data["client_id"] == rp.application.client_id
    assert event.data["acr"] == "urn:govportal:loa:2"
    assert event.data["enterprise"] is None


# --- acting for an enterprise -----------------------------------------------------------------


def test_agent_chooses_the_enterprise_and_its_authorisation_is_released(
    client: Client, person
) -> None:
    # given: an item-level authorisation for one enterprise
    authorisation = AgentAuthorisationFactory(
        agent=person, scope=AuthorisationScope.ITEMS, item_codes=["000101001000"]
    )
    enterprise = authorisation.enterprise
    rp = RelyingPartyFactory(allowed_scopes="openid profile enterprise")
    _, challenge = pkce_pair()
    # when: the consent page offers the enterprise
    page = client.get(authorize_url(rp, scope="openid profile enterprise", challenge=challenge))
    html = page.content.decode()
    assert "选择办事身份" in html
    assert enterprise.name in html
    assert enterprise.uscc in html
    assert "精准授权" in html
    # and the person chooses it
    tokens = sign_in(client, rp, scope="openid profile enterprise", acting_enterprise=enterprise.pk)
    # then
    expected = {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "capacity": "agent",
        "authorisation": {
            "scope": "items",
            "item_codes": ["000101001000"],
            "expires_at": int(authorisation.expires_at.timestamp()),
        },
    }
    claims = id_token_claims(tokens["id_token"])
    assert claims["subject_type"] == "enterprise"
    assert claims["enterprise"] == expected
    info = userinfo(tokens["access_token"])
    assert info["enterprise"] == expected
    sign_in_row = SsoSignIn.objects.get()
    assert sign_in_row.enterprise == enterprise
    assert sign_in_row.authorisation == authorisation


def test_legal_representative_acts_without_an_authorisation(client: Client) -> None:
    enterprise = EnterpriseFactory()
    client.force_login(enterprise.legal_representative)
    rp = RelyingPartyFactory(allowed_scopes="openid enterprise")
    tokens = sign_in(client, rp, scope="openid enterprise", acting_enterprise=enterprise.pk)
    assert userinfo(tokens["access_token"])["enterprise"] == {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "capacity": "legal_rep",
    }


def test_an_enterprise_the_person_cannot_act_for_is_refused(client: Client, person) -> None:
    # given: someone else's enterprise
    stranger = EnterpriseFactory()
    rp = RelyingPartyFactory(allowed_scopes="openid enterprise")
    _, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid enterprise", challenge=challenge))
    # when
    response = client.post("/o/authorize/", consent_data(page, acting_enterprise=stranger.pk))
    # then
    assert response.status_code == 200
    assert "您当前不能代表所选企业办事" in response.content.decode()
    assert Grant.objects.count() == 0


def test_a_revoked_authorisation_is_no_longer_released(client: Client, person) -> None:
    authorisation = AgentAuthorisationFactory(agent=person)
    rp = RelyingPartyFactory(allowed_scopes="openid enterprise")
    tokens = sign_in(
        client, rp, scope="openid enterprise", acting_enterprise=authorisation.enterprise.pk
    )
    authorisation.revoked_at = timezone.now()
    authorisation.save(update_fields=["revoked_at"])
    info = userinfo(tokens["access_token"])
    assert "enterprise" not in info
    assert info["subject_type"] == "person"


def test_enterprise_choice_is_ignored_without_the_scope(client: Client, person) -> None:
    authorisation = AgentAuthorisationFactory(agent=person)
    rp = RelyingPartyFactory()
    tokens = sign_in(client, rp, acting_enterprise=authorisation.enterprise.pk)
    assert SsoSignIn.objects.get().enterprise is None
    assert "enterprise" not in id_token_claims(tokens["id_token"])


# --- staff -------------------------------------------------------------------------------------


def test_staff_get_their_roles_in_the_systems_department_only(client: Client) -> None:
    # given: a reviewer here and a clerk in another department
    staff = verified_user("刘建华")
    rp = RelyingPartyFactory(allowed_scopes="openid staff")
    StaffMembershipFactory(user=staff, department=rp.department, role=StaffRole.REVIEWER)
    StaffMembershipFactory(user=staff, role=StaffRole.CLERK)
    client.force_login(staff)
    # when
    tokens = sign_in(client, rp, scope="openid staff")
    # then
    claims = id_token_claims(tokens["id_token"])
    assert claims["subject_type"] == "staff"
    assert claims["staff_roles"] == [
        {
            "department": rp.department.name,
            "department_uscc": rp.department.uscc,
            "role": "reviewer",
            "role_name": "审核人员",
            "hall": None,
            "window": None,
        }
    ]


# --- refresh -------------------------------------------------------------------------------


def test_refresh_keeps_the_sign_in_context(client: Client, person) -> None:
    # given
    rp = RelyingPartyFactory()
    tokens = sign_in(client, rp)
    first = id_token_claims(tokens["id_token"])
    # when: the person's level rises afterwards, and the system refreshes
    person.person.assurance_level = AssuranceLevel.L3
    person.person.save(update_fields=["assurance_level"])
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "refresh_token",
            "refresh_token": tokens["refresh_token"],
            "client_id": rp.application.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    # then: same subject; acr is still that of the authentication event
    assert response.status_code == 200, response.content
    refreshed = response.json()
    claims = id_token_claims(refreshed["id_token"])
    assert claims["sub"] == first["sub"]
    assert claims["acr"] == "urn:govportal:loa:2"
    assert claims["auth_time"] == first["auth_time"]
    assert userinfo(refreshed["access_token"])["name"] == "王小明"
    assert SsoSignIn.objects.get().access_token.token_checksum != ""


def test_authorization_code_is_single_use(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    verifier, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    code = query_of(client.post("/o/authorize/", consent_data(page))["Location"])["code"]
    body = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": rp.application.client_id,
        "client_secret": CLIENT_SECRET,
    }
    assert Client().post("/o/token/", body).status_code == 200
    assert Client().post("/o/token/", body).status_code == 400


def test_expired_code_is_refused(client: Client, person) -> None:
    rp = RelyingPartyFactory()
    verifier, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid", challenge=challenge))
    code = query_of(client.post("/o/authorize/", consent_data(page))["Location"])["code"]
    Grant.objects.update(expires=timezone.now() - timedelta(seconds=1))
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": rp.application.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.json()["error"] == "invalid_grant"


def test_token_and_userinfo_query_counts(
    client: Client, person, django_assert_max_num_queries
) -> None:
    # given
    rp = RelyingPartyFactory()
    verifier, challenge = pkce_pair()
    page = client.get(authorize_url(rp, scope="openid profile", challenge=challenge))
    code = query_of(client.post("/o/authorize/", consent_data(page))["Location"])["code"]
    # when: the code exchange. django-oauth-toolkit reads the grant by code eight times (scope,
    # validation, PKCE challenge and method, redirect URI, nonce, save, delete) and the
    # application twice; we add the relying party, the sign-in and its update; writes: ID
    # token, access token, refresh token (each in a savepoint), delete the grant (unlinking
    # the sign-in); a final access-token read.
    with django_assert_max_num_queries(25):
        response = Client().post(
            "/o/token/",
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_id": rp.application.client_id,
                "client_secret": CLIENT_SECRET,
            },
        )
    assert response.status_code == 200
    api = Client(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    # then: userinfo is access token (+ application, user), the application's API client and
    # relying party, the sign-in (+ enterprise), the person
    with django_assert_max_num_queries(5):
        assert api.get("/o/userinfo/").status_code == 200
