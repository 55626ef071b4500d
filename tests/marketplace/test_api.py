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
