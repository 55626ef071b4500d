"""Department licence API (/api/v1/licences/) and the public verification API."""

import pytest

from django.urls import reverse
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.catalog.licence_types import licence_type_code
from apps.licences.models import Licence, VerificationRecord
from apps.licences.services import create_verification_token
from tests.identity.factories import ApiClientFactory, issue_token, verified_user
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db

DRIVING = licence_type_code("机动车驾驶证")


def client_with(department, scopes: str) -> APIClient:
    token = issue_token(ApiClientFactory(department=department), scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def _issue_body(holder) -> dict:
    return {
        "type_code": DRIVING,
        "holder": {"kind": "person", "id_number": holder.person.id_number},
        "face_data": {"XM": holder.person.name, "ZJCX": "C1"},
    }


def test_department_issues_with_idempotency_key(dept_client, department):
    # given
    holder = verified_user("吴敏")
    url = reverse("api:licences-issue")

    # when: the same request twice with one key
    first = dept_client.post(
        url, _issue_body(holder), format="json", HTTP_IDEMPOTENCY_KEY="issue-0001"
    )
    second = dept_client.post(
        url, _issue_body(holder), format="json", HTTP_IDEMPOTENCY_KEY="issue-0001"
    )

    # then: one licence, the same answer
    assert first.status_code == 201, first.content
    assert second.status_code == 201
    assert second.json()["identifier"] == first.json()["identifier"]
    licence = Licence.objects.get()
    assert (licence.holder_user, licence.issuer) == (holder, department)
    assert first.json()["holder_code"] == licence.masked_holder_code
    assert holder.person.id_number not in first.content.decode()


def test_bad_face_data_gets_a_chinese_error_and_writes_nothing(dept_client):
    holder = verified_user()
    body = _issue_body(holder) | {"face_data": {"ZJCX": "C1"}}
    response = dept_client.post(reverse("api:licences-issue"), body, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "face_data_invalid"
    assert "姓名" in response.json()["detail"]
    assert Licence.objects.count() == 0


def test_write_needs_the_licences_write_scope(department):
    client = client_with(department, "licences:read")
    response = client.post(
        reverse("api:licences-issue"), _issue_body(verified_user()), format="json"
    )
    assert response.status_code == 403
    assert Licence.objects.count() == 0


def test_revoke_over_the_api_and_verification_says_revoked(dept_client, department):
    # given
    licence = person_licence(department)
    token, _row = create_verification_token(licence_id=licence.pk, user=None)

    # when
    response = dept_client.post(
        reverse("api:licences-status", args=[licence.identifier]),
        {"action": "revoke", "reason": "违法经营"},
        format="json",
        HTTP_IDEMPOTENCY_KEY="revoke-0001",
    )

    # then
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "revoked"
    answer = APIClient().get(reverse("api:licences-verify"), {"token": token}).json()
    assert (answer["valid"], answer["reason"], answer["status_label"]) == (
        False,
        "revoked",
        "已吊销",
    )
    assert answer["since"] is not None


def test_change_over_the_api_raises_the_version(dept_client, department):
    licence = person_licence(department)
    response = dept_client.post(
        reverse("api:licences-change", args=[licence.identifier]),
        {
            "kind": "change",
            "reason": "增驾",
            "face_data": {"XM": licence.holder_name, "ZJCX": "B2"},
        },
        format="json",
    )
    assert response.status_code == 201, response.content
    assert response.json()["version"] == 2
    assert response.json()["predecessor"] == licence.identifier


def test_another_departments_client_is_refused_and_audited(department, other_department):
    # given
    licence = person_licence(department)
    other = client_with(other_department, "licences:read licences:write")

    # when
    read = other.get(reverse("api:licences-detail", args=[licence.identifier]))
    write = other.post(
        reverse("api:licences-status", args=[licence.identifier]),
        {"action": "revoke", "reason": "x"},
        format="json",
    )

    # then
    assert (read.status_code, write.status_code) == (404, 404)
    licence.refresh_from_db()
    assert licence.status == "valid"
    assert AuditEvent.objects.filter(action="licences.access_refused").count() == 2


def test_public_verify_answers_valid_with_masked_face_and_logs_no_verifier_data(
    department, django_assert_max_num_queries
):
    # given
    holder = verified_user("郑小龙")
    licence = person_licence(department, holder=holder)
    token, _row = create_verification_token(licence_id=licence.pk, user=holder)

    # when: token+licence+type+issuer in one query, successor none, the record insert
    with django_assert_max_num_queries(4):
        answer = APIClient().get(reverse("api:licences-verify"), {"token": token}).json()

    # then
    assert (answer["valid"], answer["reason"]) == (True, "valid")
    assert answer["issuer"]["name"] == department.name
    assert answer["holder"] == "郑*龙"
    assert token not in str(answer)
    assert licence.identifier not in str(answer)
    record = VerificationRecord.objects.get()
    assert (record.channel, record.outcome, record.licence) == ("api", "valid", licence)


def test_unknown_token_is_invalid(db):
    answer = APIClient().get(reverse("api:licences-verify"), {"token": "nope"}).json()
    assert (answer["valid"], answer["reason"]) == (False, "not_found")


@pytest.mark.parametrize("query", [{}, {"token": ""}, {"token": "x" * 201}])
def test_missing_or_malformed_token_is_a_400_with_the_field_error(db, query):
    # when
    response = APIClient().get(reverse("api:licences-verify"), query)

    # then: the API error format names the field; nothing is recorded as a verification
    assert response.status_code == 400
    assert "token" in str(response.json())
    assert not VerificationRecord.objects.exists()


def test_public_verify_api_is_rate_limited_per_address(db, settings):
    # given: a low rate for the public verification API
    settings.LICENCE_VERIFY_API_RATE = "3/min"
    url = reverse("api:licences-verify")
    # when: one address asks four times
    answers = [
        APIClient().get(url, {"token": "x"}, REMOTE_ADDR="192.0.2.41").status_code for _ in range(4)
    ]
    # then: the fourth is refused; another address still gets its answer
    assert answers == [200] * 3 + [429]
    assert APIClient().get(url, {"token": "x"}, REMOTE_ADDR="192.0.2.42").status_code == 200
