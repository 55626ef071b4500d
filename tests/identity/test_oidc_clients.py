"""Department API clients at the token endpoint listed in discovery: client credentials only,
bound to one department and their granted scopes; SSO tokens never reach the API."""

from __future__ import annotations

import base64

import pytest

from django.test import Client
from django.urls import reverse
from oauth2_provider.models import AccessToken, Application

from apps.cases.constants import CaseStatus
from apps.core import calendar
from apps.core.services import seed_calendar
from apps.identity.models import ApiClient, RelyingParty
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.identity.factories import ApiClientFactory, verified_user
from tests.identity.oidc_factories import (
    CLIENT_SECRET,
    REDIRECT_URI,
    RelyingPartyFactory,
    pkce_pair,
    query_of,
    sign_in,
)

pytestmark = pytest.mark.django_db


def basic(application: Application) -> str:
    raw = f"{application.client_id}:{CLIENT_SECRET}".encode()
    return "Basic " + base64.b64encode(raw).decode()


def client_credentials(api_client: ApiClient | RelyingParty, scope: str | None = None):
    body = {"grant_type": "client_credentials"}
    if scope is not None:
        body["scope"] = scope
    return Client().post("/o/token/", body, HTTP_AUTHORIZATION=basic(api_client.application))


@pytest.fixture
def seeded_calendar() -> None:
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


def test_token_endpoint_from_discovery_issues_the_clients_scopes(client: Client) -> None:
    # given
    api_client = ApiClientFactory(allowed_scopes="cases:read handoffs")
    token_endpoint = client.get("/.well-known/openid-configuration").json()["token_endpoint"]
    # when: no scope asked → the client's granted scopes
    response = client_credentials(api_client)
    # then
    assert token_endpoint == "http://testserver" + "/o/token/"
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body["scope"].split()) == {"cases:read", "handoffs"}
    assert "refresh_token" not in body
    token = AccessToken.objects.get()
    assert token.user is None
    assert token.application == api_client.application


@pytest.mark.parametrize(
    ("_case", "scope"),
    [("not_granted", "cases:write"), ("sso_scope", "openid"), ("mixed", "cases:read idcard")],
)
def test_a_scope_the_client_was_not_granted_is_refused(_case: str, scope: str) -> None:
    api_client = ApiClientFactory(allowed_scopes="cases:read")
    response = client_credentials(api_client, scope)
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_scope"
    assert AccessToken.objects.count() == 0


def test_inactive_client_gets_no_token() -> None:
    api_client = ApiClientFactory(is_active=False)
    response = client_credentials(api_client, "cases:read")
    assert response.status_code == 400
    assert response.json()["error"] == "unauthorized_client"


def test_wrong_secret_is_refused() -> None:
    api_client = ApiClientFactory()
    raw = f"{api_client.application.client_id}:wrong".encode()
    response = Client().post(
        "/o/token/",
        {"grant_type": "client_credentials"},
        HTTP_AUTHORIZATION="Basic " + base64.b64encode(raw).decode(),
    )
    assert response.status_code == 401
    assert response.json()["error"] == "invalid_client"


def test_relying_party_cannot_use_client_credentials() -> None:
    # given: even if an administrator switched its grant type, an SSO client is no API client
    rp = RelyingPartyFactory()
    Application.objects.filter(pk=rp.application_id).update(
        authorization_grant_type=Application.GRANT_CLIENT_CREDENTIALS
    )
    rp.refresh_from_db()
    # when
    response = client_credentials(rp, "openid")
    # then
    assert response.json()["error"] == "unauthorized_client"


def test_api_client_cannot_sign_people_in(client: Client) -> None:
    # given: an API client whose application also allows the authorization code
    api_client = ApiClientFactory()
    Application.objects.filter(pk=api_client.application_id).update(
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris=REDIRECT_URI,
    )
    client.force_login(verified_user())
    _, challenge = pkce_pair()
    # when
    response = client.get(
        "/o/authorize/",
        {
            "response_type": "code",
            "client_id": api_client.application.client_id,
            "redirect_uri": REDIRECT_URI,
            "scope": "cases:read",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    # then
    assert query_of(response["Location"])["error"] == "unauthorized_client"


def test_client_is_refused_outside_its_department(
    seeded_calendar, department, other_department
) -> None:
    # given: a case of each department, and a token from the real token endpoint
    def accepted_case(dept):
        return case_in(
            CaseStatus.ACCEPTED,
            version=item_version(dept),
            applicant=citizen(),
            clerk=clerk_of(dept),
            reviewer=reviewer_of(dept),
        )

    own, foreign = accepted_case(department), accepted_case(other_department)
    api_client = ApiClientFactory(department=department, allowed_scopes="cases:read")
    token = client_credentials(api_client).json()["access_token"]
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    # when / then: its own department's case is readable
    assert api.get(reverse("api:cases-detail", args=[own.pk])).status_code == 200
    listed = api.get(reverse("api:cases-list")).json()["results"]
    assert [row["number"] for row in listed] == [own.number]
    # another department's case does not exist for it
    assert api.get(reverse("api:cases-detail", args=[foreign.pk])).status_code == 404
    # and a scope it was not granted is refused, changing nothing
    response = api.post(reverse("api:cases-review", args=[own.pk]), {})
    assert response.status_code == 403
    own.refresh_from_db()
    assert own.status == CaseStatus.ACCEPTED


def test_a_persons_sso_token_does_not_open_the_api(client: Client, department) -> None:
    # given: a person signed in to a department system, which holds their access token
    client.force_login(verified_user())
    rp = RelyingPartyFactory(department=department)
    tokens = sign_in(client, rp)
    # when: the system tries the department API with it
    response = Client().get(
        reverse("api:cases-list"), HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}"
    )
    # then
    assert response.status_code == 401
    assert "单点登录令牌不能调用部门接口" in response.json()["detail"]


def test_revoked_token_is_refused_at_the_api(department) -> None:
    api_client = ApiClientFactory(department=department, allowed_scopes="cases:read")
    token = client_credentials(api_client).json()["access_token"]
    revoke = Client().post(
        "/o/revoke_token/", {"token": token}, HTTP_AUTHORIZATION=basic(api_client.application)
    )
    assert revoke.status_code == 200
    response = Client().get(reverse("api:cases-list"), HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 401
    assert AccessToken.objects.count() == 0
