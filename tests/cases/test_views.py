"""Pages: object access by guessed ids, query counts of the lists, the one-window flow."""

import pytest

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from tests.cases.factories import FORM, case_in, citizen, clerk_of, draft, item_version, reviewer_of
from tests.identity.factories import PersonFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def setup(department):
    version = item_version(department)
    return {
        "version": version,
        "applicant": citizen(),
        "clerk": clerk_of(department),
        "reviewer": reviewer_of(department),
    }


def make(setup, status=CaseStatus.ACCEPTED, applicant=None) -> Case:
    return case_in(
        status,
        version=setup["version"],
        applicant=applicant or setup["applicant"],
        clerk=setup["clerk"],
        reviewer=setup["reviewer"],
    )


def test_citizen_cannot_open_another_citizens_case_or_file(setup) -> None:
    case = make(setup)
    material = case.materials.first()
    intruder = logged_in(citizen("李四"))
    assert intruder.get(reverse("cases:detail", args=[case.pk])).status_code == 404
    assert intruder.get(reverse("cases:material", args=[material.pk])).status_code == 404
    assert intruder.get(reverse("cases:notice", args=[case.pk, "acceptance"])).status_code == 404
    assert intruder.post(reverse("cases:withdraw", args=[case.pk])).status_code == 404
    assert Case.objects.get(pk=case.pk).status == CaseStatus.ACCEPTED
    owner = logged_in(setup["applicant"])
    assert owner.get(reverse("cases:detail", args=[case.pk])).status_code == 200
    assert owner.get(reverse("cases:material", args=[material.pk])).status_code == 200


def test_clerk_of_another_department_cannot_open_the_case(setup, other_department) -> None:
    case = make(setup)
    outsider = logged_in(clerk_of(other_department))
    assert outsider.get(reverse("office-cases:case", args=[case.pk])).status_code == 404
    assert (
        logged_in(setup["clerk"]).get(reverse("office-cases:case", args=[case.pk])).status_code
        == 200
    )


def test_citizen_is_refused_the_office(setup) -> None:
    assert logged_in(setup["applicant"]).get(reverse("office-cases:queue")).status_code == 403


def _count(client: Client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_clerk_queue_query_count_is_constant(setup) -> None:
    make(setup, CaseStatus.SUBMITTED)
    client = logged_in(setup["clerk"])
    url = reverse("office-cases:queue")
    few = _count(client, url)
    for status in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW) * 2:
        make(setup, status)
    assert _count(client, url) == few


def test_citizen_case_list_query_count_is_constant(setup) -> None:
    make(setup, CaseStatus.SUBMITTED)
    client = logged_in(setup["applicant"])
    url = reverse("cases:mine")
    few = _count(client, url)
    for status in (CaseStatus.DRAFT, CaseStatus.ACCEPTED, CaseStatus.COMPLETED) * 2:
        make(setup, status)
    response = client.get(url)
    assert response.content.decode().count("cases/") >= 7
    assert _count(client, url) == few


def test_apply_above_assurance_level_asks_to_raise_it(department) -> None:
    version = item_version(department, min_assurance_level=3)
    client = logged_in(PersonFactory(verified=True).user)
    response = client.get(reverse("cases:apply", args=[version.implementation_code]))
    assert response.status_code == 403
    assert "提升实名等级" in response.content.decode()


def test_online_application_page_creates_a_draft(setup) -> None:
    client = logged_in(setup["applicant"])
    url = reverse("cases:apply", args=[setup["version"].implementation_code])
    assert client.get(url).status_code == 200
    response = client.post(url, {**FORM, "agree": "on"})
    case = Case.objects.get(acting_user=setup["applicant"])
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:detail", args=[case.pk])
    assert case.status == CaseStatus.DRAFT
    assert case.form_data["mobile"] == FORM["mobile"]


def test_office_case_screen_shows_only_allowed_actions(setup) -> None:
    case = make(setup, CaseStatus.SUBMITTED)
    page = (
        logged_in(setup["clerk"]).get(reverse("office-cases:case", args=[case.pk])).content.decode()
    )
    assert 'data-action="accept"' in page
    assert 'data-action="decide"' not in page


def test_printable_acceptance_notice_has_the_number(setup) -> None:
    case = make(setup, CaseStatus.ACCEPTED)
    page = logged_in(setup["clerk"]).get(
        reverse("office-cases:notice", args=[case.pk, "acceptance"])
    )
    assert case.number in page.content.decode()


def test_draft_page_for_owner(setup) -> None:
    case = draft(setup["version"], setup["applicant"])
    page = logged_in(setup["applicant"]).get(reverse("cases:detail", args=[case.pk]))
    assert page.status_code == 200
    assert "提交申请" in page.content.decode()
