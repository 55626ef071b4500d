"""Relying parties and small helpers to drive the SSO flow with Django's test client."""

from __future__ import annotations

import base64
import hashlib
import secrets
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import factory

from django.test import Client
from oauth2_provider.models import Application

from apps.identity.models import RelyingParty
from tests.core.factories import DepartmentFactory
from tests.identity.factories import ApplicationFactory

CLIENT_SECRET = "test-client-secret"
REDIRECT_URI = "http://rp.example.test/callback"


class RelyingPartyFactory(factory.django.DjangoModelFactory):
    """An SSO client: confidential, authorization code, RS256, one redirect URI."""

    class Meta:
        model = RelyingParty

    application = factory.SubFactory(
        ApplicationFactory,
        client_id=factory.Sequence(lambda n: f"rp-{n}"),
        name=factory.Sequence(lambda n: f"部门业务系统{n}"),
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        algorithm=Application.RS256_ALGORITHM,
        redirect_uris=REDIRECT_URI,
    )
    department = factory.SubFactory(DepartmentFactory)
    allowed_scopes = "openid profile"

    class Params:
        with_idcard = factory.Trait(
            allowed_scopes="openid profile idcard",
            id_number_legal_basis="《不动产登记暂行条例》第十六条：申请人应当提交身份证明",
        )


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def authorize_url(relying_party: RelyingParty, *, scope: str, challenge: str, **extra: str) -> str:
    params = {
        "response_type": "code",
        "client_id": relying_party.application.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": scope,
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        **extra,
    }
    return "/o/authorize/?" + urlencode(params)


def consent_data(response: Any, **overrides: Any) -> dict[str, Any]:
    """The consent form's hidden fields as rendered, plus ``allow`` and ``overrides``."""
    form = response.context["form"]
    data = {name: value for name, value in form.initial.items() if value is not None}
    data["allow"] = "true"
    data.update(overrides)
    return {key: value for key, value in data.items() if value is not None}


def query_of(location: str) -> dict[str, str]:
    return {key: values[0] for key, values in parse_qs(urlparse(location).query).items()}


def sign_in(
    client: Client,
    relying_party: RelyingParty,
    *,
    scope: str = "openid profile",
    **consent: Any,
) -> dict[str, Any]:
    """Run consent and the code exchange; return the token endpoint's JSON."""
    verifier, challenge = pkce_pair()
    page = client.get(authorize_url(relying_party, scope=scope, challenge=challenge))
    assert page.status_code == 200, page.content
    redirect = client.post("/o/authorize/", consent_data(page, **consent))
    assert redirect.status_code == 302, redirect.content
    code = query_of(redirect["Location"])["code"]
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
            "client_id": relying_party.application.client_id,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()
