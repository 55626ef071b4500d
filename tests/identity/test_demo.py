"""The identity part of ``loaddemo``: registries, demo accounts and clients (ARCHITECTURE.md)."""

from io import StringIO

import pytest
from stdnum.cn import uscc

from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import RequestFactory
from oauth2_provider.models import Application

from apps.identity.constants import ApiScope, AssuranceLevel, StaffRole
from apps.identity.demo import DEMO_DEPARTMENT_USCC
from apps.identity.models import (
    AgentAuthorisation,
    Enterprise,
    LegalPersonRecord,
    PopulationRecord,
    User,
)
from apps.identity.selectors import acting_enterprises
from apps.identity.validators import clean_id_number

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _loaders_up_to_this_app(demo_loaders_up_to) -> None:
    demo_loaders_up_to("apps.identity.demo.load_identity_demo")


@pytest.fixture
def loaded() -> None:
    call_command("loaddemo", stdout=StringIO())


def test_registries_hold_valid_numbers(loaded) -> None:
    assert PopulationRecord.objects.count() == 12
    for record in PopulationRecord.objects.all():
        assert clean_id_number(record.id_number) == record.id_number
        assert record.id_number[:2] == "36"
    for record in LegalPersonRecord.objects.all():
        assert uscc.is_valid(record.uscc)
        assert clean_id_number(record.legal_rep_id_number)


@pytest.mark.parametrize(
    ("username", "level"),
    [
        ("demo-citizen", AssuranceLevel.L2),
        ("demo-enterprise", AssuranceLevel.L2),
        ("demo-clerk", AssuranceLevel.L4),
        ("demo-dept-admin", AssuranceLevel.L4),
    ],
)
def test_demo_accounts_log_in_with_demo_password(loaded, username: str, level: int) -> None:
    # django-axes (first backend) needs the request to count failures.
    request = RequestFactory().post("/accounts/login/")
    user = authenticate(request, username=username, password="govportal-demo")
    assert user is not None
    assert user.assurance_level == level


def test_demo_staff_and_enterprise(loaded) -> None:
    clerk = User.objects.get(username="demo-clerk")
    membership = clerk.memberships.get()
    assert (membership.role, membership.department.uscc) == (StaffRole.CLERK, DEMO_DEPARTMENT_USCC)
    assert membership.hall is not None
    assert membership.window.number == "01"
    admin = User.objects.get(username="demo-dept-admin").memberships.get()
    assert admin.role == StaffRole.DEPT_ADMIN
    enterprise = Enterprise.objects.get(legal_representative__username="demo-enterprise")
    citizen = User.objects.get(username="demo-citizen")
    assert list(acting_enterprises(citizen)) == [enterprise]
    assert AgentAuthorisation.objects.active().filter(agent=citizen).count() == 1


def test_demo_clients_as_contracted(loaded) -> None:
    from django.contrib.auth.hashers import check_password

    oidc = Application.objects.get(client_id="demo-oidc-client")
    assert oidc.client_type == Application.CLIENT_CONFIDENTIAL
    assert oidc.authorization_grant_type == Application.GRANT_AUTHORIZATION_CODE
    assert oidc.redirect_uris == "http://127.0.0.1:8765/callback"
    assert check_password("govportal-demo-secret", oidc.client_secret)
    assert oidc.relying_party.scopes == {"openid", "profile"}
    api = Application.objects.get(client_id="demo-dept-api")
    assert api.authorization_grant_type == Application.GRANT_CLIENT_CREDENTIALS
    assert check_password("govportal-demo-secret", api.client_secret)
    assert api.api_client.department.uscc == DEMO_DEPARTMENT_USCC
    assert api.api_client.scopes == set(ApiScope.values)


def test_second_load_changes_nothing(loaded) -> None:
    from apps.audit.models import AuditEvent

    before = (AuditEvent.objects.count(), AgentAuthorisation.objects.count(), User.objects.count())
    call_command("loaddemo", stdout=StringIO())
    after = (AuditEvent.objects.count(), AgentAuthorisation.objects.count(), User.objects.count())
    assert after == before
