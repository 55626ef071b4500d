"""The 行业主管部门's screens: its service list, its evaluation, sanctions on its industry."""

from datetime import timedelta
from decimal import Decimal

import pytest

from django.urls import reverse
from django.utils import timezone

from apps.identity.constants import StaffRole
from apps.marketplace.constants import AgencyStatus, EvaluatorKind, SanctionKind
from apps.marketplace.models import Agency, Evaluation, IntermediaryService, Sanction
from apps.marketplace.services import (
    confirm_completion,
    confirm_contract,
    select_directly,
)
from tests.identity.factories import StaffMembershipFactory
from tests.marketplace.factories import (
    IntermediaryServiceFactory,
    after_award_publicity,
    listed_agency,
    published_project,
)

pytestmark = pytest.mark.django_db

HOME = "marketplace_office:department"


@pytest.fixture
def supervisor(service):
    return StaffMembershipFactory(department=service.department, role=StaffRole.SUPERVISOR).user


def _completed_contract(service):
    project = published_project(service, method="direct")
    agency = listed_agency(service)
    select_directly(
        user=project.owner_user, project_id=project.pk, agency_id=agency.pk, price=Decimal(9000)
    )
    contract = after_award_publicity(project)
    sides = (project.owner_user, agency.enterprise.legal_representative)
    for user in sides:
        confirm_contract(user=user, contract_id=contract.pk)
    for user in sides:
        confirm_completion(user=user, contract_id=contract.pk)
    return contract


def test_only_department_administrators_and_supervisors_get_the_screen(
    client, service, supervisor, operator
):
    clerk = StaffMembershipFactory(department=service.department, role=StaffRole.CLERK).user
    statuses = {}
    for name, user in (("supervisor", supervisor), ("clerk", clerk), ("operator", operator)):
        client.force_login(user)
        statuses[name] = client.get(reverse(HOME)).status_code
    client.force_login(supervisor)
    queue = client.get(reverse("marketplace_office:queue"))
    assert statuses == {"supervisor": 200, "clerk": 404, "operator": 404}
    assert queue["Location"] == reverse(HOME)


def test_department_evaluates_sanctions_and_lifts(
    client, service, supervisor, django_assert_max_num_queries
):
    contract = _completed_contract(service)
    other_industry_agency = listed_agency(IntermediaryServiceFactory())
    client.force_login(supervisor)
    # when: the screen, the department's evaluation, a suspension, then its lifting
    with django_assert_max_num_queries(14):
        page = client.get(reverse(HOME)).content.decode()
    client.post(
        reverse("marketplace_office:department_evaluate", args=[contract.pk]),
        {"score": 80, "comment": "报告规范"},
    )
    ends_on = (timezone.localdate() + timedelta(days=30)).isoformat()
    client.post(
        reverse("marketplace_office:department_sanction", args=[contract.agency_id]),
        {"kind": SanctionKind.SUSPENSION, "reason": "报告数据失实", "ends_on": ends_on},
    )
    suspended = Agency.objects.get(pk=contract.agency_id).status
    client.post(
        reverse("marketplace_office:department_sanction", args=[other_industry_agency.pk]),
        {"kind": SanctionKind.WARNING, "reason": "越权"},
    )
    sanction = Sanction.objects.get()
    after = client.get(reverse(HOME)).content.decode()
    client.post(
        reverse("marketplace_office:department_lift", args=[sanction.pk]),
        {"reason": "整改到位"},
    )
    # then
    assert contract.project.name in page
    assert Evaluation.objects.get().evaluator_kind == EvaluatorKind.SUPERVISOR
    assert suspended == AgencyStatus.SUSPENDED
    assert Sanction.objects.count() == 1  # the other industry's agency was refused
    assert "报告数据失实" in after
    assert contract.project.name not in after  # evaluated: no longer waiting
    assert Agency.objects.get(pk=contract.agency_id).status == AgencyStatus.LISTED


def test_department_keeps_its_service_list(client, service, supervisor):
    client.force_login(supervisor)
    url = reverse("marketplace_office:department_service")
    # when: a new entry, a bad requirement line, an entry of another department
    client.post(
        url,
        {
            "department": service.department_id,
            "code": "ZJFW-NEW",
            "name": "水土保持方案编制",
            "legal_basis": "《中华人民共和国水土保持法》第二十五条",
            "requirements": "SWC:水土保持方案编制资质:0",
        },
    )
    bad = client.post(
        url,
        {
            "department": service.department_id,
            "code": "ZJFW-BAD",
            "name": "x",
            "legal_basis": "y",
            "requirements": "缺少等级",
        },
        follow=True,
    )
    foreign = IntermediaryServiceFactory()
    client.post(
        url,
        {
            "department": foreign.department_id,
            "code": foreign.code,
            "name": "改名",
            "legal_basis": "z",
            "requirements": "",
        },
    )
    # then
    created = IntermediaryService.objects.get(code="ZJFW-NEW")
    assert created.department_id == service.department_id
    assert created.required_qualifications == [
        {"code": "SWC", "name": "水土保持方案编制资质", "min_grade": 0}
    ]
    assert "资质要求每行格式" in bad.content.decode()
    assert not IntermediaryService.objects.filter(code="ZJFW-BAD").exists()
    foreign.refresh_from_db()
    assert foreign.name != "改名"
