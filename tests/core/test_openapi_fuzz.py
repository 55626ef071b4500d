"""Schemathesis over the whole OpenAPI schema against a live server (issue 15 §2).

For each kind of caller (anonymous, a department's client-credentials token, a person's SSO
bearer token) every operation of ``/api/schema/`` gets generated requests, valid and invalid,
over real HTTP. The API must never answer 5xx, must answer invalid input with a 4xx, and every
answer must be one the schema documents (status, content type, body).

Deterministic for CI: Hypothesis runs derandomized (the examples follow from the schema alone)
with no example database, and a bounded number of examples per operation.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from django.utils import timezone
from oauth2_provider.models import AccessToken

from apps.cases.constants import CaseStatus
from apps.identity.constants import ApiScope
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.identity.factories import ApiClientFactory, issue_token, verified_user
from tests.identity.oidc_factories import RelyingPartyFactory

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

# Examples per operation and generation mode. An anonymous caller is refused before any
# parameter is read on all but the public operations, so a few examples show the refusal's
# shape; the signed-in callers reach the handlers and get more.
MAX_EXAMPLES = {"anonymous": 4, "department": 12, "person": 12}
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def person_bearer_token() -> str:
    """An access token a person granted to a relying party through SSO."""
    token = AccessToken.objects.create(
        user=verified_user(),
        application=RelyingPartyFactory().application,
        token=secrets.token_urlsafe(32),
        expires=timezone.now() + timedelta(hours=1),
        scope="openid profile",
    )
    return token.token


@pytest.fixture
def world(department) -> dict[str, Any]:
    """A department with published items, cases in the states its API acts on, and an inbox."""
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()
    version = item_version(department)
    applicant, clerk, reviewer = citizen(), clerk_of(department), reviewer_of(department)
    for status in (CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW, CaseStatus.SUSPENDED):
        case_in(status, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer)
    api_client = ApiClientFactory(department=department)
    scopes = " ".join(ApiScope.values)
    return {
        "department_token": issue_token(api_client, scopes).token,
        "person_token": person_bearer_token(),
    }


def _failures(
    schema: schemathesis.BaseSchema, base_url: str, headers: dict[str, str], examples: int
) -> list[str]:
    """Run every operation in both generation modes; return one line per failing operation."""
    session = requests.Session()
    failures: list[str] = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
            checks = [*CHECKS, negative_data_rejection] if not mode.is_positive else CHECKS
            run = _runner(operation, mode, base_url, headers, session, checks, examples)
            try:
                run()
            except Unsatisfiable:
                # No schema-violating request exists (e.g. one string path parameter and no
                # body): nothing to send in the negative mode.
                continue
            except (AssertionError, BaseExceptionGroup) as exc:
                # schemathesis' FailureGroup is a BaseExceptionGroup; report every operation
                failures.append(f"{operation.label} [{mode}]: {exc}")
    return failures


def _runner(
    operation: Any,
    mode: schemathesis.GenerationMode,
    base_url: str,
    headers: dict[str, str],
    session: requests.Session,
    checks: list[Any],
    examples: int,
) -> Callable[[], None]:
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # no shrinking: the report names the request
        suppress_health_check=list(HealthCheck),
        print_blob=False,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        case.call_and_validate(base_url=base_url, session=session, headers=headers, checks=checks)

    return run


@pytest.mark.parametrize("caller", ["anonymous", "department", "person"])
def test_every_operation_answers_as_its_schema_says(live_server, world, caller) -> None:
    # given: the schema as the live server publishes it
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    headers = {
        "anonymous": {},
        "department": {"Authorization": f"Bearer {world['department_token']}"},
        "person": {"Authorization": f"Bearer {world['person_token']}"},
    }[caller]
    # when
    failures = _failures(schema, live_server.url, headers, MAX_EXAMPLES[caller])
    # then
    assert not failures, "\n\n".join(failures)
