"""Quotes and proposals: sealed until registration closes (only the submitting agency sees its
own); afterwards the owner and the reviewers (operator, supervising department) see them;
never the public or other agencies. The owner scores them on the page."""

from decimal import Decimal

import pytest
import time_machine

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.identity.constants import StaffRole
from apps.marketplace.constants import ProjectStatus
from apps.marketplace.models import Project, Registration
from apps.marketplace.services import close_registration, register_for_project
from tests.identity.factories import StaffMembershipFactory
from tests.marketplace.factories import l3_user, listed_agency, published_project

pytestmark = pytest.mark.django_db

PROPOSAL_A = "甲方案：三名注册环评工程师，二十日内提交报告表"
PROPOSAL_B = "乙方案：两名工程师，二十五日内提交报告表"


@pytest.fixture
def proposal_project(service):
    project = published_project(service, method="proposal")
    a, b = listed_agency(service), listed_agency(service)
    for agency, text, price in ((a, PROPOSAL_A, "70000"), (b, PROPOSAL_B, "60000")):
        register_for_project(
            user=agency.enterprise.legal_representative,
            project_id=project.pk,
            agency_id=agency.pk,
            quoted_price=Decimal(price),
            proposal=text,
        )
    return project, a, b


def _page(client, user, project):
    if user is None:
        client.logout()
    else:
        client.force_login(user)
    return client.get(reverse("marketplace:project", args=[project.pk])).content.decode()


def _viewers(service, project, a, b, operator):
    supervisor = StaffMembershipFactory(
        department=service.department, role=StaffRole.SUPERVISOR
    ).user
    return {
        "anonymous": None,
        "stranger": l3_user("路人"),
        "agency_a": a.enterprise.legal_representative,
        "agency_b": b.enterprise.legal_representative,
        "owner": project.owner_user,
        "operator": operator,
        "supervisor": supervisor,
    }


def _seen(client, viewers, project):
    seen = {}
    for name, user in viewers.items():
        html = _page(client, user, project)
        seen[name] = (PROPOSAL_A in html, PROPOSAL_B in html)
    return seen


def test_before_the_close_each_agency_sees_only_its_own(
    client, service, proposal_project, operator
):
    project, a, b = proposal_project
    viewers = _viewers(service, project, a, b, operator)
    # when: every viewer opens the project page while registration is open
    seen = _seen(client, viewers, project)
    # then
    assert seen == {
        "anonymous": (False, False),
        "stranger": (False, False),
        "agency_a": (True, False),
        "agency_b": (False, True),
        "owner": (False, False),
        "operator": (False, False),
        "supervisor": (False, False),
    }
    refused = AuditEvent.objects.filter(action="marketplace.sealed_proposals_refused")
    assert {e.actor_id for e in refused} == {
        viewers["owner"].pk,
        viewers["operator"].pk,
        viewers["supervisor"].pk,
    }


def test_after_the_close_the_owner_and_reviewers_see_all_and_the_public_none(
    client, service, proposal_project, operator
):
    project, a, b = proposal_project
    viewers = _viewers(service, project, a, b, operator)
    with time_machine.travel(project.registration_closes_at, tick=False):
        close_registration(project_id=project.pk)
        seen = _seen(client, viewers, project)
        client.logout()
        listing = client.get(reverse("marketplace:index")).content.decode()
    # then
    assert seen == {
        "anonymous": (False, False),
        "stranger": (False, False),
        "agency_a": (True, False),
        "agency_b": (False, True),
        "owner": (True, True),
        "operator": (True, True),
        "supervisor": (True, True),
    }
    assert PROPOSAL_A not in listing
    assert not AuditEvent.objects.filter(action="marketplace.sealed_proposals_refused").exists()


def test_owner_scores_on_the_page_and_awards_the_highest_total(
    client, service, proposal_project, django_assert_max_num_queries
):
    project, a, b = proposal_project
    score_url = reverse("marketplace:project_score", args=[project.pk])
    registrations = {r.agency_id: r for r in Registration.objects.all()}
    # rubric {"价格": 40, "方案": 60}: sorted, c0 = 价格, c1 = 方案
    marks = {a.pk: {"c0": 70, "c1": 90}, b.pk: {"c0": 100, "c1": 60}}
    with time_machine.travel(project.registration_closes_at, tick=False):
        close_registration(project_id=project.pk)
        # a stranger and an agency cannot score
        for intruder in (l3_user("路人"), a.enterprise.legal_representative):
            client.force_login(intruder)
            client.post(score_url, {"registration": registrations[a.pk].pk, "c0": 100, "c1": 100})
        untouched = Registration.objects.get(agency=a).total_score
        client.force_login(project.owner_user)
        # 10 measured: session, user, project, registrations, draw, contract, acting agencies…
        with django_assert_max_num_queries(12):
            page = client.get(reverse("marketplace:project", args=[project.pk]))
        for agency_id, values in marks.items():
            client.post(score_url, {"registration": registrations[agency_id].pk, **values})
        client.post(score_url, {"action": "select"})
    # then: a = 0.4×70 + 0.6×90 = 82; b = 0.4×100 + 0.6×60 = 76
    assert untouched is None
    assert "按综合得分确定中选机构" in page.content.decode()
    assert Registration.objects.get(agency=a).total_score == Decimal("82.00")
    assert Registration.objects.get(agency=b).total_score == Decimal("76.00")
    project = Project.objects.get()
    assert (project.status, project.winner_id) == (ProjectStatus.AWARDED, a.pk)


def test_department_api_output_never_carries_the_proposal_text() -> None:
    from apps.marketplace.api import RegistrationOutput

    assert "proposal" not in RegistrationOutput.Meta.fields
