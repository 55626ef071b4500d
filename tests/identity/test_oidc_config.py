"""Configuration of the SSO provider: the signing key, client registration rules, the acr
vocabulary and the scopes backend."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from django.core.exceptions import ValidationError
from oauth2_provider.models import Application

from apps.identity.oidc_claims import (
    acr_for_level,
    level_for_acr,
    pairwise_subject,
    required_level,
)
from apps.identity.oidc_keys import demo_private_key, normalise_pem
from apps.identity.scopes import DepartmentClientScopes
from tests.identity.factories import ApiClientFactory, ApplicationFactory
from tests.identity.oidc_factories import RelyingPartyFactory

ROOT = Path(__file__).resolve().parents[2]


# --- signing key -------------------------------------------------------------------------------


def test_demo_key_is_generated_once_private_and_reused(tmp_path: Path) -> None:
    # given
    path = tmp_path / "var" / "oidc.pem"
    # when
    first = demo_private_key(path)
    second = demo_private_key(path)
    # then
    assert first.startswith("-----BEGIN PRIVATE KEY-----")
    assert first == second
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_one_line_pem_from_the_environment_is_accepted() -> None:
    assert normalise_pem("-----BEGIN X-----\\nabc\\n-----END X-----") == (
        "-----BEGIN X-----\nabc\n-----END X-----\n"
    )
    assert normalise_pem("  ") == ""


def _settings_in_subprocess(**env: str) -> subprocess.CompletedProcess[str]:
    environment = {key: value for key, value in os.environ.items() if key != "OIDC_RSA_PRIVATE_KEY"}
    environment.update(env)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup(); print('started')"],
        cwd=ROOT,
        env={**environment, "DJANGO_SETTINGS_MODULE": "govportal.settings"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_production_refuses_to_start_without_a_signing_key() -> None:
    result = _settings_in_subprocess(DEBUG="false", OIDC_ENABLED="true")
    assert result.returncode != 0
    assert "OIDC_RSA_PRIVATE_KEY must be set" in result.stderr


def test_provider_can_be_switched_off_without_a_key() -> None:
    result = _settings_in_subprocess(DEBUG="false", OIDC_ENABLED="false")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


# --- acr vocabulary and pairwise subjects ------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "acr_values", "claims", "expected"),
    [
        ("nothing_asked", None, None, None),
        ("one_value", "urn:govportal:loa:3", None, 3),
        ("lowest_listed_counts", "urn:govportal:loa:4 urn:govportal:loa:2", None, 2),
        ("unknown_ignored", "urn:other:gold urn:govportal:loa:9", None, None),
        (
            "essential_claim",
            None,
            '{"id_token": {"acr": {"essential": true, "values": ["urn:govportal:loa:4"]}}}',
            4,
        ),
        (
            "voluntary_claim_ignored",
            None,
            '{"id_token": {"acr": {"values": ["urn:govportal:loa:4"]}}}',
            None,
        ),
        (
            "both_must_hold",
            "urn:govportal:loa:2",
            {"id_token": {"acr": {"essential": True, "value": "urn:govportal:loa:3"}}},
            3,
        ),
        ("malformed_claims", None, "{not json", None),
    ],
)
def test_required_level(_case: str, acr_values, claims, expected) -> None:
    assert required_level(acr_values, claims) == expected


def test_acr_round_trip() -> None:
    assert [level_for_acr(acr_for_level(n)) for n in (1, 2, 3, 4)] == [1, 2, 3, 4]
    assert level_for_acr("urn:govportal:loa:x") is None


def test_pairwise_subject_depends_on_key_sector_and_user(settings) -> None:
    base = pairwise_subject(7, "client:a")
    assert base == pairwise_subject(7, "client:a")
    assert base != pairwise_subject(7, "client:b")
    assert base != pairwise_subject(8, "client:a")
    settings.PII_INDEX_KEY = "another-key"
    assert base != pairwise_subject(7, "client:a")


# --- registering clients (Django admin forms call full_clean) ----------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("_case", "changes", "field"),
    [
        ("unknown_scope", {"allowed_scopes": "openid cases:read"}, "allowed_scopes"),
        ("openid_missing", {"allowed_scopes": "profile"}, "allowed_scopes"),
        ("idcard_without_basis", {"allowed_scopes": "openid idcard"}, "id_number_legal_basis"),
    ],
)
def test_relying_party_registration_rules(_case: str, changes: dict, field: str) -> None:
    rp = RelyingPartyFactory.build(
        application=RelyingPartyFactory().application, department=None, **changes
    )
    with pytest.raises(ValidationError) as error:
        rp.full_clean(validate_unique=False)
    assert field in error.value.message_dict


@pytest.mark.django_db
def test_relying_party_needs_an_rs256_code_flow_application() -> None:
    rp = RelyingPartyFactory.build(application=ApplicationFactory(), department=None)
    with pytest.raises(ValidationError) as error:
        rp.full_clean(validate_unique=False)
    assert "application" in error.value.message_dict


@pytest.mark.django_db
def test_api_client_registration_rules() -> None:
    code_flow_app = ApplicationFactory(
        authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE,
        redirect_uris="https://x.example/cb",
    )
    client = ApiClientFactory.build(application=code_flow_app, allowed_scopes="cases:read idcard")
    with pytest.raises(ValidationError) as error:
        client.full_clean(validate_unique=False)
    assert set(error.value.message_dict) >= {"application"}
    client.application = ApplicationFactory()
    with pytest.raises(ValidationError) as error:
        client.full_clean(validate_unique=False)
    assert "allowed_scopes" in error.value.message_dict


# --- scopes backend ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_scopes_backend_bounds_each_kind_of_client() -> None:
    backend = DepartmentClientScopes()
    api = ApiClientFactory(allowed_scopes="cases:read handoffs").application
    rp = RelyingPartyFactory(allowed_scopes="openid profile").application
    stray = ApplicationFactory()
    assert sorted(backend.get_available_scopes(api)) == ["cases:read", "handoffs"]
    assert sorted(backend.get_default_scopes(api)) == ["cases:read", "handoffs"]
    assert sorted(backend.get_available_scopes(rp)) == ["openid", "profile"]
    assert backend.get_default_scopes(rp) == ["openid"]
    assert backend.get_available_scopes(stray) == []
    assert "openid" in backend.get_available_scopes()  # discovery lists everything
