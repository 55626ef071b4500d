"""Where a child case sits in its bundle: the graph on the department's office case screen, and
nothing on the applicant's case page."""

from __future__ import annotations

import pytest

from django.urls import reverse

from apps.bundles import services
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases import services as case_services
from apps.cases.constants import Decision
from apps.cases.permissions import CaseActor
from tests.bundles.factories import FORM, files_for, published_birth_bundle
from tests.cases.factories import citizen, clerk_of, reviewer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(department, django_capture_on_commit_callbacks) -> BundleApplication:
    version = published_birth_bundle(department)
    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_bundle_application(
            user=citizen(),
            version_id=version.pk,
            answers={"needs_ssc": "yes"},
            form_data=FORM,
            files=files_for(version),
        )
    cert = _child(application, "cert")
    dept = CaseActor.of(reviewer_of(department))
    with django_capture_on_commit_callbacks(execute=True):
        case_services.accept_case(case_id=cert.case_id, actor=CaseActor.of(clerk_of(department)))
        case_services.start_review(case_id=cert.case_id, actor=dept)
        case_services.decide_case(
            case_id=cert.case_id,
            actor=dept,
            decision=Decision.APPROVED,
            result_data={"certificate_no": "Q1"},
        )
    return application


def _child(application: BundleApplication, key: str) -> BundleChild:
    return BundleChild.objects.select_related("case").get(
        application=application, component__key=key
    )


def test_office_case_screen_shows_which_child_waits_on_which(
    client, department, application, django_assert_max_num_queries
) -> None:
    # given: 出生登记 started after the certificate; 医保 and 社保卡 wait for it
    hukou = _child(application, "hukou")
    client.force_login(clerk_of(department))
    url = reverse("office-cases:case", args=[hukou.case_id])
    # when
    # the office case screen (14 at most, tests/cases/test_views) + the bundle graph (2 more)
    with django_assert_max_num_queries(16):
        page = client.get(url).content.decode()
    # then: the graph with this case marked, its upstream decided, its dependants waiting
    panel = page[page.index('id="bundle-graph-title"') :]
    assert "所属一件事：新生儿出生一件事" in panel
    assert "出生登记（本办件）" in panel
    for name in ("出生医学证明办理", "城乡居民医保参保登记", "社会保障卡申领"):
        assert name in panel
    assert "等待前置事项办结" in panel
    assert "本办件的前置事项尚未办结" not in panel
    assert " style=" not in panel


def test_the_panel_costs_three_queries_and_one_for_other_cases(
    department, application, django_assert_num_queries
) -> None:
    from apps.bundles import selectors

    # a case outside any bundle: one query, nothing shown
    with django_assert_num_queries(1):
        assert selectors.bundle_graph_for_case(0) is None
    hukou = _child(application, "hukou")
    with django_assert_num_queries(3):
        graph = selectors.bundle_graph_for_case(hukou.case_id)
    assert [n.name for n in graph.nodes if n.is_this_case] == ["出生登记"]
    assert graph.waiting_on == []


def test_applicant_case_page_has_no_bundle_panel(
    client, application, django_assert_max_num_queries
) -> None:
    # The applicant follows the bundle on its own page; their case page is unchanged.
    hukou = _child(application, "hukou")
    client.force_login(application.applicant_user)
    page = client.get(reverse("cases:detail", args=[hukou.case_id])).content.decode()
    assert "bundle-graph-title" not in page


def test_department_system_reads_where_its_child_sits(
    department, application, django_assert_max_num_queries
) -> None:
    from rest_framework.test import APIClient

    from tests.core.factories import DepartmentFactory
    from tests.identity.factories import ApiClientFactory, issue_token

    # given: 出生登记 accepted (departments' systems see their cases from acceptance)
    hukou = _child(application, "hukou")
    case_services.accept_case(case_id=hukou.case_id, actor=CaseActor.of(clerk_of(department)))
    url = reverse("api:bundles-case-graph", args=[hukou.case_id])
    api = APIClient()
    token = issue_token(ApiClientFactory(department=department), "cases:read")
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    # when: token and client (3), the case (1), the graph (3)
    with django_assert_max_num_queries(9):
        response = api.get(url)
    # then
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["bundle"], body["component"], body["waiting_on"]) == (
        application.bundle.code,
        "hukou",
        [],
    )
    nodes = {n["key"]: n for n in body["nodes"]}
    assert nodes["hukou"]["is_this_case"] is True
    assert nodes["hukou"]["waits_on"] == ["cert"]
    assert sorted(nodes["hukou"]["feeds"]) == ["insurance", "ssc"]
    assert nodes["cert"]["state"] == "decided"
    assert nodes["insurance"]["state"] == "waiting"
    # and: another department's system sees nothing
    other = APIClient()
    token = issue_token(ApiClientFactory(department=DepartmentFactory()), "cases:read")
    other.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    assert other.get(url).status_code == 404
