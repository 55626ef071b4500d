"""SSO figures (docs/sso.md): a full sign-in, a department client's token, userinfo.

Measured in-process through Django's test client (all middleware, real PostgreSQL), so the
figures are the server's own cost without network. Client secrets are hashed with the
production hasher (PBKDF2): every token request pays one verification.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import statistics
import time
from html.parser import HTMLParser
from urllib.parse import parse_qs, urlencode, urlparse

SECRET = "bench-client-secret"
REDIRECT = "https://rp.bench.example/callback"


def _setup() -> tuple:
    from stdnum.cn import uscc

    from django.db import transaction
    from oauth2_provider.models import Application

    from apps.core.models import AdministrativeLevel, Department, Region, RegionLevel
    from apps.identity.constants import AssuranceLevel
    from apps.identity.demo import make_id_number
    from apps.identity.models import ApiClient, Person, RelyingParty, User

    with transaction.atomic():
        region, _ = Region.objects.get_or_create(
            code="360000", defaults={"name": "江西省", "level": RegionLevel.PROVINCE}
        )
        department, _ = Department.objects.get_or_create(
            uscc=f"11360000{99:08d}0" + uscc.calc_check_digit(f"11360000{99:08d}0"),
            defaults={"name": "压测部门", "region": region, "level": AdministrativeLevel.PROVINCE},
        )
        user, created = User.objects.get_or_create(username="bench-sso")
        if created:
            person = Person(user=user, name="压测用户", assurance_level=AssuranceLevel.L2)
            person.set_id_number(make_id_number("360102", "19900101", 11))
            person.set_phone("13900000000")
            person.save()

        def application(client_id: str, grant: str) -> Application:
            app = Application.objects.filter(client_id=client_id).first()
            if app is None:
                app = Application.objects.create(
                    client_id=client_id,
                    name=client_id,
                    client_type=Application.CLIENT_CONFIDENTIAL,
                    authorization_grant_type=grant,
                    redirect_uris=REDIRECT if grant == Application.GRANT_AUTHORIZATION_CODE else "",
                    algorithm=Application.RS256_ALGORITHM
                    if grant == Application.GRANT_AUTHORIZATION_CODE
                    else Application.NO_ALGORITHM,
                    client_secret=SECRET,
                )
            return app

        rp_app = application("bench-rp", Application.GRANT_AUTHORIZATION_CODE)
        RelyingParty.objects.get_or_create(
            application=rp_app,
            defaults={"department": department, "allowed_scopes": "openid profile phone"},
        )
        api_app = application("bench-api", Application.GRANT_CLIENT_CREDENTIALS)
        ApiClient.objects.get_or_create(
            application=api_app, defaults={"department": department, "allowed_scopes": "cases:read"}
        )
    return user, rp_app, api_app


class _Hidden(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "input" and values.get("type") == "hidden" and values.get("name"):
            self.fields[values["name"] or ""] = values.get("value") or ""


def _hidden_inputs(html: str) -> dict[str, str]:
    parser = _Hidden()
    parser.feed(html)
    return parser.fields


def _pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _sign_in(browser, rp_app) -> dict:
    from django.test import Client

    verifier, challenge = _pkce()
    query = urlencode(
        {
            "response_type": "code",
            "client_id": rp_app.client_id,
            "redirect_uri": REDIRECT,
            "scope": "openid profile phone",
            "state": "s",
            "nonce": "n",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    page = browser.get("/o/authorize/?" + query)
    assert page.status_code == 200, page.content
    data = _hidden_inputs(page.content.decode())
    redirect = browser.post("/o/authorize/", {**data, "allow": "true"})
    code = parse_qs(urlparse(redirect["Location"]).query)["code"][0]
    response = Client().post(
        "/o/token/",
        {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": verifier,
            "client_id": rp_app.client_id,
            "client_secret": SECRET,
        },
    )
    assert response.status_code == 200, response.content
    return response.json()


def _row(metric: str, latencies: list[float]) -> dict:
    latencies = sorted(latencies)
    return {
        "metric": metric,
        "value": round(statistics.median(latencies) * 1000, 1),
        "unit": "ms (median)",
        "p95_ms": round(latencies[int(len(latencies) * 0.95)] * 1000, 1),
        "n": len(latencies),
    }


def sso() -> list[dict]:
    from django.test import Client

    user, rp_app, api_app = _setup()
    browser = Client()
    browser.force_login(user)
    _sign_in(browser, rp_app)  # warm-up

    sign_ins, tokens = [], None
    for _ in range(10):
        t0 = time.perf_counter()
        tokens = _sign_in(browser, rp_app)
        sign_ins.append(time.perf_counter() - t0)

    client_tokens = []
    for _ in range(10):
        t0 = time.perf_counter()
        response = Client().post(
            "/o/token/",
            {"grant_type": "client_credentials"},
            HTTP_AUTHORIZATION="Basic "
            + base64.b64encode(f"{api_app.client_id}:{SECRET}".encode()).decode(),
        )
        client_tokens.append(time.perf_counter() - t0)
        assert response.status_code == 200, response.content

    assert tokens is not None
    api = Client(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    userinfo = []
    for _ in range(200):
        t0 = time.perf_counter()
        response = api.get("/o/userinfo/")
        userinfo.append(time.perf_counter() - t0)
        assert response.status_code == 200
    return [
        _row("SSO sign-in: consent page, consent, code exchange (PKCE, RS256)", sign_ins),
        _row("client-credentials token (one PBKDF2 secret check)", client_tokens),
        _row("userinfo (openid profile phone)", userinfo),
    ]
