import pytest
import time_machine

from django.urls import reverse

from apps.marketplace.services import close_registration, register_for_project
from tests.marketplace.factories import (
    IntermediaryServiceFactory,
    listed_agency,
    published_project,
)

pytestmark = pytest.mark.django_db


def test_department_reads_only_its_own_industry(
    dept_client, department, django_assert_max_num_queries
):
    # given: one project under the client's department, one under another department
    own = IntermediaryServiceFactory(department=department)
    other = IntermediaryServiceFactory()
    mine = published_project(own, name="本行业项目")
    published_project(other, name="他行业项目")
    # when: token, client, scopes, page of projects
    with django_assert_max_num_queries(8):
        response = dept_client.get(reverse("api:marketplace-projects"))
    # then
    assert response.status_code == 200
    assert [p["number"] for p in response.json()["results"]] == [mine.number]


def test_registrations_hidden_while_open_then_listed(dept_client, department):
    service = IntermediaryServiceFactory(department=department)
    project = published_project(service)
    for _ in range(2):
        agency = listed_agency(service)
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    url = reverse("api:marketplace-registrations", args=[project.pk])
    while_open = dept_client.get(url)
    with time_machine.travel(project.registration_closes_at, tick=False):
        close_registration(project_id=project.pk)
    after = dept_client.get(url)
    credit = dept_client.get(reverse("api:marketplace-agencies"))
    assert while_open.status_code == 404
    assert len(after.json()["results"]) == 2
    assert len(credit.json()["results"]) == 2


def test_anonymous_refused(client):
    assert client.get(reverse("api:marketplace-projects")).status_code in (401, 403)


# --- writes: sanctions by the department's system ------------------------------------------


def test_department_system_imposes_and_lifts_a_sanction_in_its_industry(
    dept_client, department, django_assert_max_num_queries
):
    from datetime import timedelta

    from django.utils import timezone

    from apps.audit.models import AuditEvent
    from apps.marketplace.constants import AgencyStatus
    from apps.marketplace.models import Agency

    agency = listed_agency(IntermediaryServiceFactory(department=department))
    ends_on = (timezone.localdate() + timedelta(days=30)).isoformat()
    # when: a suspension, with an Idempotency-Key sent twice, then lifted
    url = reverse("api:marketplace-sanction-create", args=[agency.pk])
    body = {"kind": "suspension", "reason": "出具虚假报告", "ends_on": ends_on}
    # 29 measured: token and client, idempotency key, agency checks and locks, the sanction, the
    # credit recomputation with its history, two audit events with the chain head.
    with django_assert_max_num_queries(32):
        created = dept_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sanction-0001")
    replay = dept_client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY="sanction-0001")
    suspended = Agency.objects.get(pk=agency.pk).status
    lifted = dept_client.post(
        reverse("api:marketplace-sanction-lift", args=[created.json()["id"]]),
        {"reason": "整改完成，提前解除"},
        format="json",
    )
    # then
    assert created.status_code == 201
    assert created.json()["kind"] == "suspension"
    assert replay.json() == created.json()
    assert suspended == AgencyStatus.SUSPENDED
    assert lifted.status_code == 200
    assert lifted.json()["lift_reason"] == "整改完成，提前解除"
    assert lifted.json()["agency_status"] == AgencyStatus.LISTED
    imposed = AuditEvent.objects.get(action="marketplace.sanction_imposed")
    assert imposed.data["api_client"] == dept_client.api_client.pk
    assert AuditEvent.objects.filter(action="marketplace.sanction_lifted").count() == 1


def test_write_api_field_errors_rules_and_other_industries(dept_client, department):
    from apps.marketplace.models import Sanction

    own = listed_agency(IntermediaryServiceFactory(department=department))
    foreign = listed_agency(IntermediaryServiceFactory())
    url = reverse("api:marketplace-sanction-create", args=[own.pk])
    # when
    missing = dept_client.post(url, {"kind": "nonsense"}, format="json")
    rule = dept_client.post(url, {"kind": "suspension", "reason": "无期限"}, format="json")
    other = dept_client.post(
        reverse("api:marketplace-sanction-create", args=[foreign.pk]),
        {"kind": "warning", "reason": "越权"},
        format="json",
    )
    # then: DRF field errors, the rule's reason, and another industry's agency not found
    assert missing.status_code == 400
    assert set(missing.json()["errors"]) == {"kind", "reason"}
    assert rule.status_code == 400
    assert rule.json()["detail"] == "暂停承接须设置期限"
    assert other.status_code == 404
    assert Sanction.objects.count() == 0


def test_write_api_needs_the_write_scope(department):
    from rest_framework.test import APIClient

    from tests.identity.factories import ApiClientFactory, issue_token

    agency = listed_agency(IntermediaryServiceFactory(department=department))
    token = issue_token(ApiClientFactory(department=department), "marketplace:read")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    response = client.post(
        reverse("api:marketplace-sanction-create", args=[agency.pk]),
        {"kind": "warning", "reason": "无写权限"},
        format="json",
    )
    assert response.status_code == 403


def test_schema_documents_the_write_endpoints(client):
    schema = client.get("/api/schema/").content.decode()
    assert "/api/v1/marketplace/agencies/{agency_id}/sanctions/" in schema
    assert "/api/v1/marketplace/sanctions/{sanction_id}/lift/" in schema
