from decimal import Decimal

import pytest

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity.constants import StaffRole
from apps.marketplace.constants import AgencyStatus, ContractStatus, SanctionKind
from apps.marketplace.models import Contract, CreditChange, Evaluation, Sanction
from apps.marketplace.services import (
    confirm_completion,
    confirm_contract,
    evaluate_agency,
    impose_sanction,
    refuse_contract,
    select_directly,
)
from tests.identity.factories import StaffMembershipFactory
from tests.marketplace.factories import (
    after_award_publicity,
    l3_user,
    listed_agency,
    published_project,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def contract(service):
    project = published_project(service, method="direct")
    agency = listed_agency(service)
    select_directly(
        user=project.owner_user, project_id=project.pk, agency_id=agency.pk, price=Decimal(18000)
    )
    after_award_publicity(project)
    return Contract.objects.get()


def test_award_opens_a_contract_both_sides_sign_and_complete(contract):
    owner = contract.project.owner_user
    agent = contract.agency.enterprise.legal_representative
    confirm_contract(user=owner, contract_id=contract.pk)
    confirm_contract(user=agent, contract_id=contract.pk)
    confirm_completion(user=agent, contract_id=contract.pk)
    half = Contract.objects.get().status
    confirm_completion(user=owner, contract_id=contract.pk)
    contract.refresh_from_db()
    assert (half, contract.status) == (ContractStatus.SIGNED, ContractStatus.COMPLETED)
    assert contract.amount == Decimal(18000)


def test_stranger_cannot_confirm(contract):
    with pytest.raises(DomainError):
        confirm_contract(user=l3_user(), contract_id=contract.pk)
    assert Contract.objects.get().owner_signed_at is None


def test_refusal_to_sign_is_recorded_as_misconduct(contract):
    # when
    refuse_contract(
        user=contract.agency.enterprise.legal_representative,
        contract_id=contract.pk,
        reason="人手不足",
    )
    # then
    sanction = Sanction.objects.get()
    assert (sanction.kind, sanction.reason) == (SanctionKind.WARNING, "中选后拒绝签订合同")
    change = CreditChange.objects.get()
    assert (change.previous, change.current) == (Decimal("100.00"), Decimal("95.00"))
    assert AuditEvent.objects.filter(action="marketplace.contract_refused").count() == 1


def test_evaluations_change_credit_with_history(contract, service):
    # given: a completed contract
    owner = contract.project.owner_user
    agent = contract.agency.enterprise.legal_representative
    for user in (owner, agent):
        confirm_contract(user=user, contract_id=contract.pk)
    for user in (owner, agent):
        confirm_completion(user=user, contract_id=contract.pk)
    supervisor = StaffMembershipFactory(
        department=service.department, role=StaffRole.SUPERVISOR
    ).user
    # when: owner 60 (social 20 %), supervisor 80 (70 %), government credit 100 (10 %)
    evaluate_agency(user=owner, contract_id=contract.pk, score=60)
    evaluate_agency(user=supervisor, contract_id=contract.pk, score=80)
    with pytest.raises(DomainError):
        evaluate_agency(user=owner, contract_id=contract.pk, score=100)
    # then: 0.7*80 + 0.1*100 + 0.2*60 = 78
    contract.agency.refresh_from_db()
    assert contract.agency.credit_score == Decimal("78.00")
    assert list(CreditChange.objects.order_by("pk").values_list("previous", "current")) == [
        (Decimal("100.00"), Decimal("92.00")),
        (Decimal("92.00"), Decimal("78.00")),
    ]
    assert Evaluation.objects.count() == 2


def test_evaluation_before_completion_refused(contract):
    with pytest.raises(DomainError):
        evaluate_agency(user=contract.project.owner_user, contract_id=contract.pk, score=90)
    assert Evaluation.objects.count() == 0


def test_blacklist_by_the_supervising_department(service):
    agency = listed_agency(service)
    supervisor = StaffMembershipFactory(
        department=service.department, role=StaffRole.DEPT_ADMIN
    ).user
    with pytest.raises(DomainError):
        impose_sanction(
            user=l3_user(), agency_id=agency.pk, kind=SanctionKind.BLACKLIST, reason="串通报价"
        )
    impose_sanction(
        user=supervisor, agency_id=agency.pk, kind=SanctionKind.BLACKLIST, reason="串通报价"
    )
    agency.refresh_from_db()
    assert agency.status == AgencyStatus.EXPELLED
    assert agency.credit_score == Decimal("60.00")
