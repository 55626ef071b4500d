"""Department case API: scope, object access, transitions, error format, query counts."""

from datetime import timedelta

import pytest
import time_machine

from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from tests.cases.factories import PDF, case_in, citizen, clerk_of, item_version, reviewer_of
from tests.identity.factories import ApiClientFactory, issue_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_case(department):
    version = item_version(department)
    applicant, clerk, reviewer = citizen(), clerk_of(department), reviewer_of(department)

    def make(status: str = CaseStatus.ACCEPTED) -> Case:
        return case_in(status, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer)

    return make


def client_with(department, scopes: str) -> APIClient:
    token = issue_token(ApiClientFactory(department=department), scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def test_list_shows_only_own_department_cases_after_acceptance(
    dept_client, make_case, other_department
) -> None:
    accepted = make_case(CaseStatus.ACCEPTED)
    make_case(CaseStatus.SUBMITTED)  # not handed over yet
    foreign = case_in(
        CaseStatus.ACCEPTED,
        version=item_version(other_department),
        applicant=citizen(),
        clerk=clerk_of(other_department),
        reviewer=reviewer_of(other_department),
    )
    response = dept_client.get(reverse("api:cases-list"))
    assert response.status_code == 200
    ids = [row["id"] for row in response.json()["results"]]
    assert ids == [accepted.pk]
    assert foreign.pk not in ids


def test_list_filters_by_state_item_and_deadline(dept_client, make_case) -> None:
    accepted = make_case(CaseStatus.ACCEPTED)
    reviewing = make_case(CaseStatus.IN_REVIEW)
    url = reverse("api:cases-list")
    by_state = dept_client.get(url, {"status": "in_review"}).json()["results"]
    assert [row["id"] for row in by_state] == [reviewing.pk]
    by_item = dept_client.get(url, {"item": accepted.item_version.implementation_code}).json()
    assert {row["id"] for row in by_item["results"]} == {accepted.pk, reviewing.pk}
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert dept_client.get(url, {"deadline_before": past}).json()["results"] == []
    bad = dept_client.get(url, {"status": "draft"})
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid"
    assert "status" in bad.json()["errors"]


def test_list_query_count_does_not_grow_with_rows(
    dept_client, make_case, django_assert_max_num_queries
) -> None:
    # given
    make_case()
    url = reverse("api:cases-list")
    # Queries: access token (with its application), the API client, its department, one
    # cursor page of cases joined with item version and department.
    with django_assert_max_num_queries(4):
        assert len(dept_client.get(url).json()["results"]) == 1

    # when
    for _ in range(6):
        make_case()

    # then
    with django_assert_max_num_queries(4):
        assert len(dept_client.get(url).json()["results"]) == 7


def test_detail_query_count_does_not_grow_with_materials_and_events(
    dept_client, make_case, django_assert_max_num_queries
) -> None:
    # given: an accepted case with two materials and four events
    case = make_case()
    # Queries: access token, API client, department, the case (with item version,
    # department, enterprise), its current materials (with the case), its timeline.
    with django_assert_max_num_queries(6):
        detail = dept_client.get(reverse("api:cases-detail", args=[case.pk])).json()
    assert len(detail["materials"]) == 2
    assert len(detail["events"]) == case.events.count()


def test_other_department_case_is_404(dept_client, other_department) -> None:
    foreign = case_in(
        CaseStatus.ACCEPTED,
        version=item_version(other_department),
        applicant=citizen(),
        clerk=clerk_of(other_department),
        reviewer=reviewer_of(other_department),
    )
    assert dept_client.get(reverse("api:cases-detail", args=[foreign.pk])).status_code == 404
    response = dept_client.post(reverse("api:cases-review", args=[foreign.pk]), {}, format="json")
    assert response.status_code == 404
    assert Case.objects.get(pk=foreign.pk).status == CaseStatus.ACCEPTED


def test_detail_gives_expiring_signed_download_links(dept_client, make_case) -> None:
    case = make_case()
    detail = dept_client.get(reverse("api:cases-detail", args=[case.pk])).json()
    assert detail["number"] == case.number
    link = detail["materials"][0]["download_url"]
    anonymous = APIClient()
    response = anonymous.get(link)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    # a tampered token and an expired one are refused
    assert anonymous.get(link[:-3] + "abc/").status_code == 404
    with time_machine.travel(timezone.now() + timedelta(hours=1)):
        assert anonymous.get(link).status_code == 404


def test_decide_through_the_api(dept_client, make_case) -> None:
    case = make_case()
    review = dept_client.post(reverse("api:cases-review", args=[case.pk]), {}, format="json")
    assert review.status_code == 200
    assert review.json()["status"] == "in_review"
    response = dept_client.post(
        reverse("api:cases-decide", args=[case.pk]),
        {"decision": "approved", "result": {"licence_no": "X-1"}, "complete": True},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["status"] == "completed"
    case.refresh_from_db()
    assert case.result_data == {"licence_no": "X-1"}
    event = case.events.get(action="decide")
    assert event.actor_kind == "department"


def test_illegal_transition_is_409_and_bad_input_400(dept_client, make_case) -> None:
    case = make_case()
    conflict = dept_client.post(reverse("api:cases-complete", args=[case.pk]), {}, format="json")
    assert conflict.status_code == 409
    assert conflict.json()["code"] == "illegal_transition"
    bad = dept_client.post(
        reverse("api:cases-decide", args=[case.pk]), {"decision": "maybe"}, format="json"
    )
    assert bad.status_code == 400
    assert bad.json()["errors"]["decision"]
    dept_client.post(reverse("api:cases-review", args=[case.pk]), {}, format="json")
    refusal = dept_client.post(
        reverse("api:cases-decide", args=[case.pk]), {"decision": "denied"}, format="json"
    )
    assert refusal.status_code == 400
    assert refusal.json()["code"] == "reason_required"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


@pytest.mark.parametrize(
    ("_case", "scopes", "method", "expected"),
    [
        ("read_scope_can_list", "cases:read", "get", 200),
        ("read_scope_cannot_write", "cases:read", "post", 403),
        ("write_scope_cannot_list", "cases:write", "get", 403),
        ("other_scope", "catalog:read", "get", 403),
    ],
)
def test_scopes(department, make_case, _case, scopes, method, expected) -> None:
    case = make_case()
    client = client_with(department, scopes)
    if method == "get":
        response = client.get(reverse("api:cases-list"))
    else:
        response = client.post(reverse("api:cases-review", args=[case.pk]), {}, format="json")
    assert response.status_code == expected


def test_anonymous_and_citizen_sessions_are_refused(make_case) -> None:
    make_case()
    assert APIClient().get(reverse("api:cases-list")).status_code in (401, 403)
    session = APIClient()
    session.force_authenticate(citizen())
    assert session.get(reverse("api:cases-list")).status_code == 403
