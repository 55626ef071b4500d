"""Must-show (issue 3): an OIDC authorization-code + PKCE flow completed by a real OIDC client
library (authlib's ``OAuth2Session``) against the running provider (``live_server``).

The person is signed in by the session cookie of ``client.force_login``; the "browser" is a
``requests`` session carrying that cookie, which submits the consent form as a person would.
The relying party verifies the ID token's signature with the JWKS it fetched over HTTP, and
validates iss, aud, exp, iat, nonce and at_hash (authlib's ``CodeIDToken``), then reads
userinfo.
"""

from __future__ import annotations

import warnings
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session

from django.conf import settings
from django.test import Client

from apps.audit.models import AuditEvent
from apps.identity.constants import AssuranceMethod
from apps.identity.services import raise_assurance_level
from tests.identity.factories import verified_user
from tests.identity.oidc_factories import CLIENT_SECRET, REDIRECT_URI, RelyingPartyFactory

with warnings.catch_warnings():
    # authlib 1.x names joserfc as its successor; authlib.jose stays supported until 2.0. Its
    # deprecation module installs an "always" filter on import, so ours goes after it.
    import authlib.deprecate

    warnings.simplefilter("ignore", authlib.deprecate.AuthlibDeprecationWarning)
    from authlib.jose import JsonWebKey, jwt
    from authlib.oidc.core import CodeIDToken

pytestmark = pytest.mark.django_db(transaction=True)


class _FormFields(HTMLParser):
    """The consent form's inputs (hidden fields and the CSRF token), as a browser would send."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}
        self.action = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "form" and "authorize" in (values.get("action") or ""):
            self.action = values["action"] or ""
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


class Browser:
    """A person's browser: the portal session cookie, no automatic redirects."""

    def __init__(self, base_url: str, session_key: str) -> None:
        self.base_url = base_url
        self.http = requests.Session()
        self.http.cookies.set(settings.SESSION_COOKIE_NAME, session_key)

    def consent(self, authorization_url: str) -> requests.Response:
        page = self.http.get(authorization_url, allow_redirects=False, timeout=10)
        if page.status_code != 200:
            return page
        form = _FormFields()
        form.feed(page.text)
        assert form.action, page.text
        return self.http.post(
            self.base_url + form.action,
            data={**form.fields, "allow": "true"},
            allow_redirects=False,
            timeout=10,
        )


class RelyingPartyApp:
    """A department system using authlib, configured from discovery only."""

    def __init__(self, discovery: dict[str, Any], client_id: str) -> None:
        self.discovery = discovery
        self.client_id = client_id
        self.session = OAuth2Session(
            client_id,
            CLIENT_SECRET,
            scope="openid profile idcard",
            redirect_uri=REDIRECT_URI,
            code_challenge_method="S256",
            token_endpoint_auth_method="client_secret_basic",
        )
        self.verifier = generate_token(48)
        self.nonce = generate_token(20)
        self.state = ""

    def authorization_url(self, **extra: str) -> str:
        url, self.state = self.session.create_authorization_url(
            self.discovery["authorization_endpoint"],
            code_verifier=self.verifier,
            nonce=self.nonce,
            **extra,
        )
        return url

    def finish(self, callback: str, *, acr_values: list[str] | None = None) -> dict[str, Any]:
        """Exchange the code, verify the ID token against the JWKS, read userinfo."""
        query = {k: v[0] for k, v in parse_qs(urlparse(callback).query).items()}
        # RFC 9207: the response names its issuer (mix-up defence).
        assert query["iss"] == self.discovery["issuer"]
        token = self.session.fetch_token(
            self.discovery["token_endpoint"],
            authorization_response=callback,
            state=self.state,
            code_verifier=self.verifier,
        )
        jwks = requests.get(self.discovery["jwks_uri"], timeout=10).json()
        options: dict[str, Any] = {
            "iss": {"essential": True, "value": self.discovery["issuer"]},
            "aud": {"essential": True, "value": self.client_id},
            "exp": {"essential": True},
            "nonce": {"essential": True},
        }
        if acr_values:
            options["acr"] = {"essential": True, "values": acr_values}
        claims = jwt.decode(
            token["id_token"],
            JsonWebKey.import_key_set(jwks),
            claims_cls=CodeIDToken,
            claims_options=options,
            claims_params={
                "nonce": self.nonce,
                "client_id": self.client_id,
                "access_token": token["access_token"],
            },
        )
        claims.validate()
        userinfo = self.session.get(self.discovery["userinfo_endpoint"], timeout=10)
        assert userinfo.status_code == 200, userinfo.text
        return {"id_token": dict(claims), "header": claims.header, "userinfo": userinfo.json()}


@pytest.fixture
def insecure_transport(monkeypatch: pytest.MonkeyPatch) -> None:
    # live_server speaks plain http on loopback; production discovery is https only.
    monkeypatch.setenv("AUTHLIB_INSECURE_TRANSPORT", "1")


def test_authorization_code_pkce_flow_with_authlib_against_the_running_provider(
    live_server: Any, insecure_transport: None
) -> None:
    # given: a real-name verified person signed in to the portal, and two department systems;
    # the first may receive ID numbers under a recorded legal basis
    person = verified_user("赵晓明", phone="13800000001")
    django_client = Client()
    django_client.force_login(person)
    browser = Browser(live_server.url, django_client.cookies[settings.SESSION_COOKIE_NAME].value)
    registry = RelyingPartyFactory(with_idcard=True)
    other = RelyingPartyFactory(allowed_scopes="openid profile")
    discovery = requests.get(
        live_server.url + "/.well-known/openid-configuration", timeout=10
    ).json()
    assert discovery["issuer"] == live_server.url

    # when: the first system signs the person in, asking for at least L2
    rp = RelyingPartyApp(discovery, registry.application.client_id)
    callback = browser.consent(rp.authorization_url(acr_values="urn:govportal:loa:2"))
    assert callback.status_code == 302, callback.text
    result = rp.finish(callback.headers["Location"], acr_values=["urn:govportal:loa:2"])

    # then: a verified RS256 ID token with a pairwise sub and the level as acr
    id_token = result["id_token"]
    assert result["header"]["alg"] == "RS256"
    assert result["header"]["kid"] in {
        key["kid"] for key in requests.get(discovery["jwks_uri"], timeout=10).json()["keys"]
    }
    assert id_token["acr"] == "urn:govportal:loa:2"
    assert id_token["subject_type"] == "person"
    assert id_token["sub"] != str(person.pk)
    assert "id_number" not in id_token
    # userinfo: the same subject, the profile, and the ID number, whose release is audited
    info = result["userinfo"]
    assert info["sub"] == id_token["sub"]
    assert info["name"] == "赵晓明"
    assert info["masked_phone_number"] == "138****0001"
    assert info["id_number"] == person.person.id_number
    release = AuditEvent.objects.get(action="identity.oidc_id_number_released")
    assert release.object_id == str(person.pk)
    assert release.data["client_id"] == registry.application.client_id
    assert release.data["legal_basis"] == registry.id_number_legal_basis

    # when: the second system signs the same person in (it may not ask for idcard)
    second = RelyingPartyApp(discovery, other.application.client_id)
    second.session.scope = "openid profile"
    callback = browser.consent(second.authorization_url())
    other_result = second.finish(callback.headers["Location"])
    # then: it knows the person under another subject, and gets no ID number
    assert other_result["id_token"]["sub"] != id_token["sub"]
    assert other_result["userinfo"]["sub"] == other_result["id_token"]["sub"]
    assert "id_number" not in other_result["userinfo"]
    assert AuditEvent.objects.filter(action="identity.oidc_id_number_released").count() == 1


def test_acr_values_above_the_level_need_step_up_then_succeed(
    live_server: Any, insecure_transport: None
) -> None:
    # given: an L2 person, and a system that needs L3 (实人)
    person = verified_user("孙志强")
    django_client = Client()
    django_client.force_login(person)
    browser = Browser(live_server.url, django_client.cookies[settings.SESSION_COOKIE_NAME].value)
    registry = RelyingPartyFactory()
    discovery = requests.get(
        live_server.url + "/.well-known/openid-configuration", timeout=10
    ).json()
    rp = RelyingPartyApp(discovery, registry.application.client_id)
    rp.session.scope = "openid profile"

    # when: the system asks for L3
    step_up = browser.consent(rp.authorization_url(acr_values="urn:govportal:loa:3"))
    # then: no code; the step-up page instead
    assert step_up.status_code == 403
    assert "要求实名等级 L3 及以上，您当前为 L2" in step_up.text

    # when: the person raises the level (live face match) and the system asks again
    raise_assurance_level(user=person, to_level=3, method=AssuranceMethod.FACE)
    callback = browser.consent(rp.authorization_url(acr_values="urn:govportal:loa:3"))
    result = rp.finish(
        callback.headers["Location"],
        acr_values=["urn:govportal:loa:3", "urn:govportal:loa:4"],
    )
    # then
    assert result["id_token"]["acr"] == "urn:govportal:loa:3"
