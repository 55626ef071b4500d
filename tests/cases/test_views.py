"""Pages: object access by guessed ids, query counts of the lists, the one-window flow."""

from datetime import timedelta

import pytest
import time_machine

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.cases import personal
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


def _rows(response) -> int:
    return response.content.decode().count('data-testid="case-row"')


def test_clerk_queue_query_count_is_constant(setup, django_assert_max_num_queries) -> None:
    # given: one waiting case
    make(setup, CaseStatus.SUBMITTED)
    client = logged_in(setup["clerk"])
    url = reverse("office-cases:queue") + "?status=live"
    # Queries: session, user, the clerk's departments (staff_required), the clerk's memberships
    # with hall and region (queue scope), one page of cases joined with item version and
    # department.
    with django_assert_max_num_queries(5):
        assert _rows(client.get(url)) == 1

    # when: many more cases in queue states
    for status in (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW) * 3:
        make(setup, status)

    # then: the same five queries
    with django_assert_max_num_queries(5):
        assert _rows(client.get(url)) == 10


def test_citizen_case_list_query_count_is_constant(setup, django_assert_max_num_queries) -> None:
    # given
    make(setup, CaseStatus.SUBMITTED)
    client = logged_in(setup["applicant"])
    url = reverse("cases:mine")
    # Queries: session, user, the enterprises the user represents, one page of cases joined
    # with item version and department.
    with django_assert_max_num_queries(4):
        assert _rows(client.get(url)) == 1

    # when
    for status in (CaseStatus.DRAFT, CaseStatus.ACCEPTED, CaseStatus.COMPLETED) * 3:
        make(setup, status)

    # then
    with django_assert_max_num_queries(4):
        assert _rows(client.get(url)) == 10


def test_office_case_screen_query_count_does_not_grow(setup, django_assert_max_num_queries) -> None:
    # given: a case with a long timeline (supplement, resubmission, acceptance, review)
    case = make(setup, CaseStatus.SUPPLEMENTED)
    client = logged_in(setup["clerk"])
    url = reverse("office-cases:case", args=[case.pk])
    # Queries: session, user, departments (staff_required), the case with item version,
    # department, enterprise, hall and accepting clerk, the clerk's roles (actions), the
    # clerk's roles (view check), item materials, current case materials, supplement notices,
    # pauses, tolerances, warnings, timeline events, and the bundles panel (is the case a
    # child of a 一件事 application?).
    with django_assert_max_num_queries(14):
        page = client.get(url).content.decode()
    assert page.count("<li") >= case.events.count()


def test_citizen_case_page_query_count_does_not_grow(setup, django_assert_max_num_queries) -> None:
    # given
    case = make(setup, CaseStatus.SUPPLEMENTED)
    client = logged_in(setup["applicant"])
    url = reverse("cases:detail", args=[case.pk])
    # Queries: session, user, the case with item version and department (its applicant is
    # checked on the row), item materials, current case materials, supplement notices,
    # tolerances, public timeline events, the applicant's wallet licences of the slots' accepted
    # types (免提交 choices, one query for all slots; issue 11).
    with django_assert_max_num_queries(9):
        response = client.get(url)
    assert response.status_code == 200
    assert 'data-action="resubmit"' in response.content.decode()


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
    # the mobile number is kept encrypted, out of the clear JSON (apps.cases.personal)
    assert "mobile" not in case.form_data
    assert personal.full_form(case)["mobile"] == FORM["mobile"]


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


def test_intake_identifies_by_id_number_and_accepts_in_one_flow(setup) -> None:
    # given: a walk-in applicant known by ID number and name
    applicant = citizen("王五")
    id_number = applicant.person.id_number
    client = logged_in(setup["clerk"])
    url = reverse("office-cases:intake")

    # when: identify, choose the item, tick both materials and accept
    identified = client.post(url, {"step": "identify", "id_number": id_number, "name": "王五"})
    code = setup["version"].implementation_code
    page = client.get(url, {"item": code}).content.decode()
    response = client.post(
        url,
        {
            "step": "accept",
            "item": code,
            "received": ["id-card", "application"],
            **FORM,
            "agree": "on",
        },
    )

    # then
    assert identified.status_code == 302
    assert 'name="received"' in page
    case = Case.objects.get(applicant_user=applicant)
    assert response.status_code == 302
    assert response["Location"] == reverse("office-cases:case", args=[case.pk])
    assert case.status == CaseStatus.ACCEPTED
    assert case.channel == "window"
    assert list(case.events.values_list("action", flat=True)) == [
        "draft_created",
        "submit",
        "accept",
    ]


def test_intake_refuses_unknown_person_and_incomplete_materials(setup) -> None:
    # given
    applicant = citizen("王五")
    client = logged_in(setup["clerk"])
    url = reverse("office-cases:intake")

    # when: a wrong name, then the right one but a required material missing
    wrong = client.post(
        url,
        {"step": "identify", "id_number": applicant.person.id_number, "name": "王六"},
        follow=True,
    )
    client.post(url, {"step": "identify", "id_number": applicant.person.id_number, "name": "王五"})
    code = setup["version"].implementation_code
    incomplete = client.post(
        url, {"step": "accept", "item": code, "received": ["application"], **FORM, "agree": "on"}
    )

    # then: Chinese messages, nothing written, the typed and ticked values kept
    assert "身份证号码与姓名不一致，或人口库中无此记录" in wrong.content.decode()
    assert 'value="王六"' in wrong.content.decode()
    assert incomplete.status_code == 200
    assert "材料不齐，不能受理" in incomplete.content.decode()
    assert 'name="received" value="application" checked' in incomplete.content.decode()
    assert Case.objects.count() == 0


def test_queue_sla_filter_uses_the_stored_deadline(setup) -> None:
    # given: one case well inside its limit, one overdue
    with time_machine.travel(timezone.now() - timedelta(days=30), tick=False):
        overdue = make(setup, CaseStatus.IN_REVIEW)
    on_time = make(setup, CaseStatus.ACCEPTED)
    client = logged_in(setup["clerk"])

    # when
    red = client.get(reverse("office-cases:queue"), {"sla": "red"}).content.decode()

    # then
    assert overdue.number in red
    assert on_time.number not in red
    assert "queue-row--red" in red


def test_window_only_item_cannot_be_applied_for_online(department) -> None:
    version = item_version(department, channel="window", form_schema={})
    client = logged_in(citizen())
    response = client.post(
        reverse("cases:apply", args=[version.implementation_code]), {}, follow=True
    )
    assert "该事项仅支持窗口办理" in response.content.decode()
    assert Case.objects.count() == 0


def test_item_guide_links_to_online_application(setup) -> None:
    code = setup["version"].implementation_code
    page = Client().get(reverse("catalog:item-detail", args=[code])).content.decode()
    assert reverse("cases:apply", args=[code]) in page
