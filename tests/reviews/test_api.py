"""/api/v1/reviews/: department reads scoped to its own, public stats, applicant's rating."""

from __future__ import annotations

import json

from django.urls import reverse
from rest_framework.test import APIClient

from apps.reviews import services
from apps.reviews.constants import Grade
from apps.reviews.models import Rating
from tests.core.factories import DepartmentFactory
from tests.identity.factories import verified_user
from tests.reviews.factories import BAD_REASON, window_service


def _rated(department, person=None) -> Rating:
    service = window_service(department, served_user=person)
    return services.rate_by_token(
        token=services.pad_token(service),
        grade=Grade.DISSATISFIED,
        options=[BAD_REASON],
        comment="请打 13700001234",
    )


def test_department_reads_its_own_ratings_without_the_rater(
    dept_client, department, django_assert_max_num_queries
) -> None:
    # given
    person = verified_user("赵敏")
    own = _rated(department, person)
    _rated(DepartmentFactory())
    # when (token, client + application, the page of ratings with service, case and ticket)
    with django_assert_max_num_queries(6):
        response = dept_client.get("/api/v1/reviews/")
    # then
    body = response.json()
    assert response.status_code == 200
    assert [row["id"] for row in body["results"]] == [own.pk]
    row = body["results"][0]
    assert (row["gb_code"], row["national_code"], row["real_name"]) == (4, 2, True)
    assert row["ticket_status"] == "new"
    text = json.dumps(body, ensure_ascii=False)
    for secret in ("赵敏", person.username, person.person.id_number, "13700001234"):
        assert secret not in text


def test_department_reads_its_tickets(dept_client, department) -> None:
    _rated(department)
    response = dept_client.get(reverse("api:reviews-tickets"))
    assert [row["status"] for row in response.json()["results"]] == ["new"]


def test_ratings_api_refuses_anonymous_and_citizens(client) -> None:
    assert client.get("/api/v1/reviews/").status_code in (401, 403)
    api = APIClient()
    api.force_authenticate(verified_user("钱进"))
    assert api.get("/api/v1/reviews/").status_code in (401, 403)


def test_public_stats_api(client, department, django_assert_max_num_queries) -> None:
    _rated(department)
    with django_assert_max_num_queries(1):
        response = client.get(reverse("api:reviews-stats"))
    rows = response.json()
    assert len(rows) == 12
    assert sum(r["ratings"] for r in rows) == 1


def test_applicant_rates_a_case_through_the_api(completed_case) -> None:
    api = APIClient()
    api.force_authenticate(completed_case.acting_user)
    url = reverse("api:reviews-rate-case", args=[completed_case.pk])
    created = api.post(url, {"grade": Grade.SATISFIED}, format="json")
    refused = api.post(url, {"grade": "perfect"}, format="json")
    assert created.status_code == 201
    assert created.json()["national_code"] == 4
    assert refused.status_code == 400
    assert refused.json()["code"] == "invalid_grade"
    assert Rating.objects.count() == 1
