import json
from datetime import timedelta

import pytest
import time_machine

from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.marketplace.constants import AgencyStatus, ProjectStatus
from apps.marketplace.models import Agency, Project, Registration
from apps.marketplace.services import (
    close_registration,
    place_bid,
    register_for_project,
    run_selection,
    submit_project,
)
from tests.identity.factories import EnterpriseFactory
from tests.marketplace.factories import (
    after_award_publicity,
    l3_user,
    listed_agency,
    published_project,
)

pytestmark = pytest.mark.django_db


def _drawn_project(service, registrants=3):
    project = published_project(service)
    for _ in range(registrants):
        agency = listed_agency(service)
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    with time_machine.travel(project.selection_at, tick=False):
        close_registration(project_id=project.pk)
        run_selection(project_id=project.pk)
    project.refresh_from_db()
    return project


def test_public_project_list_filters_and_hides_unpublished(
    client, service, django_assert_max_num_queries
):
    # given: two published projects and one still under review
    published_project(service, name="甲项目环评")
    published_project(service, name="乙项目环评")
    submit_project(
        user=l3_user(),
        enterprise=None,
        service=service,
        name="未审核项目",
        scope="x",
        requirements=[],
        budget=1000,
        time_limit_days=5,
        method="random",
        registration_closes_at=timezone.now() + timedelta(hours=1),
        selection_at=timezone.now() + timedelta(hours=2),
    )
    # when: session, count, page of projects, services for the filter
    with django_assert_max_num_queries(6):
        response = client.get(reverse("marketplace:index"), {"q": "甲项目"})
    everything = client.get(reverse("marketplace:index"))
    # then
    assert response.status_code == 200
    content = response.content.decode()
    assert "甲项目环评" in content
    assert "乙项目环评" not in content
    assert "未审核项目" not in everything.content.decode()


def test_unpublished_project_page_is_404_for_others_but_not_for_owner(client, service):
    owner = l3_user()
    project = submit_project(
        user=owner,
        enterprise=None,
        service=service,
        name="未审核项目",
        scope="x",
        requirements=[],
        budget=1000,
        time_limit_days=5,
        method="random",
        registration_closes_at=timezone.now() + timedelta(hours=1),
        selection_at=timezone.now() + timedelta(hours=2),
    )
    url = reverse("marketplace:project", args=[project.pk])
    assert client.get(url).status_code == 404
    client.force_login(l3_user())
    assert client.get(url).status_code == 404
    client.force_login(owner)
    assert client.get(url).status_code == 200


def test_service_list_and_directory(client, service, django_assert_max_num_queries):
    listed_agency(service)
    with django_assert_max_num_queries(3):
        services_page = client.get(reverse("marketplace:services"))
    with django_assert_max_num_queries(4):
        directory = client.get(reverse("marketplace:directory"))
    agency = Agency.objects.get()
    with django_assert_max_num_queries(5):
        detail = client.get(reverse("marketplace:agency", args=[agency.pk]))
    assert service.name in services_page.content.decode()
    assert agency.enterprise.name in directory.content.decode()
    assert "环境影响评价资质" in detail.content.decode()


def test_draw_page_and_json_before_and_after(client, service, django_assert_max_num_queries):
    # given: a published project, not yet closed
    project = published_project(service)
    draw = project.draw
    # when
    before = client.get(reverse("marketplace:draw_json", args=[draw.pk])).json()
    # then: only the commitment is public before the close
    assert before["seed_commitment"] == draw.seed_commitment
    assert "server_seed" not in before
    assert "registrants" not in before
    # and after the draw everything is published
    drawn = _drawn_project(service)
    with django_assert_max_num_queries(3):
        page = client.get(reverse("marketplace:draw", args=[drawn.draw.pk]))
    document = client.get(reverse("marketplace:draw_json", args=[drawn.draw.pk])).json()
    assert page.status_code == 200
    assert document["server_seed"] == drawn.draw.server_seed
    assert document["result"] == [drawn.winner.uscc]
    assert drawn.winner.enterprise.name in page.content.decode()


def test_recompute_script_agrees_with_the_published_json(client, service, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    drawn = _drawn_project(service, registrants=4)
    source = tmp_path / "draw.json"
    source.write_text(
        client.get(reverse("marketplace:draw_json", args=[drawn.draw.pk])).content.decode(),
        encoding="utf-8",
    )
    script = Path(__file__).resolve().parents[2] / "scripts" / "recompute_draw.py"
    completed = subprocess.run(
        [sys.executable, str(script), str(source)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout
    assert json.loads(completed.stdout)["result"] == [drawn.winner.uscc]


def test_project_page_for_anonymous_registered_owner(
    client, service, django_assert_max_num_queries
):
    project = published_project(service)
    agency = listed_agency(service)
    url = reverse("marketplace:project", args=[project.pk])
    with django_assert_max_num_queries(4):
        anonymous = client.get(url)
    client.force_login(agency.enterprise.legal_representative)
    response = client.post(
        reverse("marketplace:project_register", args=[project.pk]), {"agency": agency.pk}
    )
    assert anonymous.status_code == 200
    assert response.status_code == 302
    assert Registration.objects.get().agency == agency
    client.force_login(project.owner_user)
    page = client.get(url)
    assert "业主随机数" in page.content.decode()
    client.post(reverse("marketplace:project_nonce", args=[project.pk]), {"nonce": "abc123"})
    project.draw.refresh_from_db()
    assert project.draw.owner_nonce == "abc123"


def test_stranger_cannot_set_nonce_or_register_for_an_agency(client, service):
    project = published_project(service)
    agency = listed_agency(service)
    client.force_login(l3_user())
    client.post(reverse("marketplace:project_nonce", args=[project.pk]), {"nonce": "evil"})
    client.post(reverse("marketplace:project_register", args=[project.pk]), {"agency": agency.pk})
    project.draw.refresh_from_db()
    assert project.draw.owner_nonce == ""
    assert Registration.objects.count() == 0


def test_sealed_bids_hidden_from_owner_and_other_agencies_until_round_close(client, service):
    # given: a bidding project in round one with one bid placed
    project = published_project(service, method="bidding")
    a, b = listed_agency(service), listed_agency(service)
    for agency in (a, b):
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    url = reverse("marketplace:project", args=[project.pk])
    with time_machine.travel(project.selection_at, tick=False):
        close_registration(project_id=project.pk)
        place_bid(
            user=a.enterprise.legal_representative,
            project_id=project.pk,
            agency_id=a.pk,
            price=70000,
        )
        client.force_login(b.enterprise.legal_representative)
        other_agency = client.get(url).content.decode()
        client.force_login(a.enterprise.legal_representative)
        own = client.get(url).content.decode()
        client.force_login(project.owner_user)
        owner = client.get(url).content.decode()
    _opens, closes = project.bid_round_window(1)
    with time_machine.travel(closes, tick=False):
        client.logout()
        after = client.get(url).content.decode()
    # then
    assert "70000" not in other_agency
    assert "70000" not in owner
    assert "70000" in own
    assert "70000" in after
    assert AuditEvent.objects.filter(action="marketplace.sealed_bids_refused").count() == 1


def test_agency_join_page(client, service):
    rep = l3_user()
    enterprise = EnterpriseFactory(legal_representative=rep)
    client.force_login(rep)
    response = client.post(
        reverse("marketplace:join"),
        {
            "enterprise": enterprise.pk,
            "contact_phone": "0791-1",
            "service": service.pk,
            "qualification_code": "EIA",
            "qualification_name": "环评",
            "grade": 3,
            "number": "HP-1",
            "issuer": "省生态环境厅",
            "valid_from": "2025-01-01",
            "valid_until": (timezone.localdate() + timedelta(days=300)).isoformat(),
            "commitment": "on",
        },
    )
    assert response.status_code == 302
    assert Agency.objects.get().status == AgencyStatus.PENDING


def test_project_form_refuses_added_barrier_with_reason(client, service):
    client.force_login(l3_user())
    closes = timezone.localtime() + timedelta(days=2)
    data = {
        "name": "环评项目",
        "service": service.pk,
        "scope": "报告表",
        "requirement_code": "EIA",
        "requirement_grade": 3,
        "budget": "80000",
        "time_limit_days": 30,
        "method": "random",
        "registration_closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
        "selection_at": (closes + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "big_list_size": 0,
        "small_list_size": 0,
        "bid_rounds": 0,
        "bid_round_minutes": 0,
    }
    refused = client.post(reverse("marketplace:project_new"), data)
    assert refused.status_code == 200
    assert "等级要求高于法定要求" in refused.content.decode()
    assert Project.objects.count() == 0
    data["requirement_grade"] = 2
    accepted = client.post(reverse("marketplace:project_new"), data)
    assert accepted.status_code == 302
    assert Project.objects.get().status == ProjectStatus.SUBMITTED


def test_contract_actions_and_public_blacklist(client, service, django_assert_max_num_queries):
    from decimal import Decimal

    from apps.marketplace.constants import ContractStatus, SanctionKind
    from apps.marketplace.models import Contract
    from apps.marketplace.services import impose_sanction, select_directly
    from tests.marketplace.factories import operator_user

    # given: a direct selection, so a contract awaits signature
    project = published_project(service, method="direct")
    agency = listed_agency(service)
    select_directly(
        user=project.owner_user, project_id=project.pk, agency_id=agency.pk, price=Decimal(9000)
    )
    after_award_publicity(project)
    url = reverse("marketplace:contract", args=[project.pk])
    # when: a stranger tries, then both sides confirm
    client.force_login(l3_user())
    client.post(url, {"action": "confirm"})
    stranger_left = Contract.objects.get().owner_signed_at
    client.force_login(project.owner_user)
    client.post(url, {"action": "confirm"})
    client.force_login(agency.enterprise.legal_representative)
    client.post(url, {"action": "confirm"})
    # then
    assert stranger_left is None
    assert Contract.objects.get().status == ContractStatus.SIGNED
    # and a blacklisted agency is public
    impose_sanction(
        user=operator_user(), agency_id=agency.pk, kind=SanctionKind.BLACKLIST, reason="串通报价"
    )
    client.logout()
    with django_assert_max_num_queries(3):
        page = client.get(reverse("marketplace:blacklist"))
    with django_assert_max_num_queries(7):
        detail = client.get(reverse("marketplace:agency", args=[agency.pk]))
    assert "串通报价" in page.content.decode()
    assert "串通报价" in detail.content.decode()


def test_operator_review_queue(client, service, operator, django_assert_max_num_queries):
    from apps.marketplace.models import AgencyService
    from tests.marketplace.factories import AgencyServiceFactory

    # given: a pending agency and a submitted project
    pending = AgencyServiceFactory(service=service, agency__status=AgencyStatus.PENDING).agency
    project = submit_project(
        user=l3_user(),
        enterprise=None,
        service=service,
        name="待审核项目",
        scope="x",
        requirements=[],
        budget=1000,
        time_limit_days=5,
        method="random",
        registration_closes_at=timezone.now() + timedelta(hours=1),
        selection_at=timezone.now() + timedelta(hours=2),
    )
    queue = reverse("marketplace_office:queue")
    # when: a citizen gets nothing; the operator sees both and decides
    client.force_login(l3_user())
    refused = client.get(queue)
    client.force_login(operator)
    # session, user, permissions (2), memberships, agencies with services and certificates
    # (3), projects, pending objections, sanctions in force
    with django_assert_max_num_queries(11):
        page = client.get(queue)
    client.post(
        reverse("marketplace_office:agency_review", args=[pending.pk]), {"decision": "approve"}
    )
    client.post(
        reverse("marketplace_office:project_review", args=[project.pk]),
        {"decision": "return", "note": "范围不清"},
    )
    # then
    assert refused.status_code == 404
    assert "待审核项目" in page.content.decode()
    # the page's sections are in its body only, not in its title or head
    head = page.content.decode().split("</head>")[0]
    assert "<section" not in head
    assert head.count("待处理的中选结果异议") == 0
    assert Agency.objects.get().status == AgencyStatus.PUBLICITY
    assert Project.objects.get().status == ProjectStatus.RETURNED
    assert AgencyService.objects.count() == 1


def test_operator_signs_in_at_the_staff_sign_in_and_lands_on_the_review_queue(
    client, service, operator
):
    """The operator holds a permission, not a department membership: the portal sign-in sends
    /office/ pages to the staff sign-in, which must return the operator to the queue."""
    # given: a project waiting for review
    submit_project(
        user=l3_user(),
        enterprise=None,
        service=service,
        name="待发布项目",
        scope="x",
        requirements=[],
        budget=1000,
        time_limit_days=5,
        method="random",
        registration_closes_at=timezone.now() + timedelta(hours=1),
        selection_at=timezone.now() + timedelta(hours=2),
    )
    queue = reverse("marketplace_office:queue")
    # when: the operator opens the portal sign-in with the queue as ``next``
    portal = client.get(f"/accounts/login/?next={queue}")
    response = client.post(
        portal["Location"],
        {"username": operator.username, "password": "correct-horse-battery"},
        follow=True,
    )
    # then: the staff sign-in returns the operator to the queue, with the publish button
    assert portal["Location"].startswith("/office/login/")
    assert response.redirect_chain[-1][0] == queue
    assert "待发布项目" in response.content.decode()
    assert "发布" in response.content.decode()


def test_bid_through_the_page_and_late_bid_refused(client, service):
    from apps.marketplace.models import Bid

    project = published_project(service, method="bidding")
    a, b = listed_agency(service), listed_agency(service)
    for agency in (a, b):
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    url = reverse("marketplace:project_bid", args=[project.pk])
    client.force_login(a.enterprise.legal_representative)
    with time_machine.travel(project.selection_at, tick=False):
        close_registration(project_id=project.pk)
        page = client.get(reverse("marketplace:project", args=[project.pk])).content.decode()
        client.post(url, {"agency": a.pk, "price": "70000"})
    with time_machine.travel(project.bidding_ends_at, tick=False):
        late = client.post(url, {"agency": a.pk, "price": "60000"}, follow=True)
    assert "提交报价" in page
    assert Bid.objects.get().price == 70000
    assert "竞价已截止，出价无效" in late.content.decode()


def _project_form_data(service, **extra):
    closes = timezone.localtime() + timedelta(days=2)
    return {
        "name": "单位环评项目",
        "service": service.pk,
        "scope": "报告表",
        "budget": "80000",
        "time_limit_days": 30,
        "method": "random",
        "registration_closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
        "selection_at": (closes + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
        "big_list_size": 0,
        "small_list_size": 0,
        "bid_rounds": 0,
        "bid_round_minutes": 0,
        **extra,
    }


def test_enterprise_owner_through_its_authorised_agent_at_l3(client, service):
    from tests.identity.factories import AgentAuthorisationFactory

    # given: an enterprise with an authorised agent at L3, and one the user has nothing to do with
    agent = l3_user("经办人小陈")
    authorisation = AgentAuthorisationFactory(agent=agent)
    enterprise = authorisation.enterprise
    foreign = EnterpriseFactory()
    client.force_login(agent)
    # when: the form offers the enterprise; posting for it, then for the foreign one
    form = client.get(reverse("marketplace:project_new")).content.decode()
    url = reverse("marketplace:project_new")
    client.post(url, _project_form_data(service, owner=enterprise.pk))
    foreign_post = client.post(
        reverse("marketplace:project_new"), _project_form_data(service, owner=foreign.pk)
    )
    # then: the project belongs to the enterprise; the foreign choice is not even offered
    assert enterprise.name in form
    assert foreign.name not in form
    project = Project.objects.get()
    assert (project.owner_enterprise, project.owner_name) == (enterprise, enterprise.name)
    assert project.owner_user == agent
    assert foreign_post.status_code == 200
    submitted = AuditEvent.objects.get(action="marketplace.project_submitted")
    assert submitted.data["owner_uscc"] == enterprise.uscc
    # and another agent of the same enterprise manages it too; the legal representative as well
    from apps.marketplace.permissions import can_manage_project

    assert can_manage_project(enterprise.legal_representative, project) is False  # below L3
    colleague = l3_user("经办人小林")
    AgentAuthorisationFactory(agent=colleague, enterprise=enterprise)
    assert can_manage_project(colleague, project) is True


def test_enterprise_owner_refused_below_l3(client, service):
    from tests.identity.factories import AgentAuthorisationFactory, verified_user

    # given: an authorised agent whose real-name level is below L3
    agent = verified_user("经办人小吴")
    enterprise = AgentAuthorisationFactory(agent=agent).enterprise
    client.force_login(agent)
    # when
    response = client.post(
        reverse("marketplace:project_new"), _project_form_data(service, owner=enterprise.pk)
    )
    # then: refused with the reason, nothing created
    assert response.status_code == 200
    assert "您无权代表该单位发布项目" in response.content.decode()
    assert Project.objects.count() == 0
