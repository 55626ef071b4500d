import datetime
from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.marketplace.constants import AgencyServiceStatus, AgencyStatus
from apps.marketplace.models import Agency, AgencyService
from apps.marketplace.services import (
    declare_agency_service,
    end_agency_publicity,
    register_agency,
    review_agency,
    suspend_expired_qualifications,
)
from apps.notifications.models import Notification
from tests.identity.factories import AgentAuthorisationFactory, EnterpriseFactory
from tests.marketplace.factories import AgencyServiceFactory, QualificationFactory, l3_user

pytestmark = pytest.mark.django_db


def _certificate(**overrides):
    data = {
        "code": "EIA",
        "name": "环境影响评价资质",
        "grade": 2,
        "number": "HP-2026-001",
        "issuer": "江西省生态环境厅",
        "valid_from": datetime.date(2025, 1, 1),
        "valid_until": timezone.localdate() + timedelta(days=400),
        "scope": "报告表",
    }
    data.update(overrides)
    return data


def test_legal_rep_at_l3_registers_and_signs_commitment():
    # given
    rep = l3_user()
    enterprise = EnterpriseFactory(legal_representative=rep)
    # when
    agency = register_agency(
        user=rep, enterprise=enterprise, contact_phone="0791-1", commitment_signed=True
    )
    # then
    assert Agency.objects.get().status == AgencyStatus.PENDING
    assert agency.commitment_signed_at is not None
    assert AuditEvent.objects.filter(action="marketplace.agency_registered").count() == 1


def test_authorised_agent_at_l3_may_register():
    # given
    enterprise = EnterpriseFactory()
    agent = l3_user("赵六")
    AgentAuthorisationFactory(enterprise=enterprise, agent=agent)
    # when
    agency = register_agency(
        user=agent, enterprise=enterprise, contact_phone="1", commitment_signed=True
    )
    # then
    assert agency.submitted_by == agent


@pytest.mark.parametrize("_case", ["l2_legal_rep", "unsigned_commitment"])
def test_registration_refused(_case):
    # given
    enterprise = EnterpriseFactory()  # its legal representative is only L2
    user = enterprise.legal_representative if _case == "l2_legal_rep" else l3_user()
    if _case == "unsigned_commitment":
        enterprise = EnterpriseFactory(legal_representative=user)
    # when
    with pytest.raises(DomainError):
        register_agency(
            user=user,
            enterprise=enterprise,
            contact_phone="1",
            commitment_signed=_case != "unsigned_commitment",
        )
    # then
    assert Agency.objects.count() == 0
    assert AuditEvent.objects.count() == 0


def test_declared_certificates_must_meet_the_legal_requirement(service):
    # given: the list requires 乙级 or above; a 丙级 certificate is declared
    rep = l3_user()
    agency = register_agency(
        user=rep,
        enterprise=EnterpriseFactory(legal_representative=rep),
        contact_phone="1",
        commitment_signed=True,
    )
    # when
    with pytest.raises(DomainError) as refused:
        declare_agency_service(
            user=rep, agency_id=agency.pk, service=service, qualifications=[_certificate(grade=1)]
        )
    # then
    assert refused.value.code == "qualification_missing"
    assert AgencyService.objects.count() == 0


def test_review_publicity_then_directory(service, operator):
    # given
    rep = l3_user()
    agency = register_agency(
        user=rep,
        enterprise=EnterpriseFactory(legal_representative=rep),
        contact_phone="1",
        commitment_signed=True,
    )
    declare_agency_service(
        user=rep, agency_id=agency.pk, service=service, qualifications=[_certificate()]
    )
    # when
    review_agency(operator=operator, agency_id=agency.pk, approve=True)
    listed_before = end_agency_publicity()
    with time_machine.travel(timezone.now() + timedelta(days=5, minutes=1)):
        listed_after = end_agency_publicity()
        listed_again = end_agency_publicity()
    # then
    assert (listed_before, listed_after, listed_again) == (0, 1, 0)
    assert Agency.objects.get().status == AgencyStatus.LISTED
    assert AuditEvent.objects.filter(action="marketplace.agency_listed").count() == 1


def test_only_the_operator_reviews(service):
    # given
    agency = AgencyServiceFactory(agency__status=AgencyStatus.PENDING).agency
    # when
    with pytest.raises(DomainError):
        review_agency(operator=l3_user(), agency_id=agency.pk, approve=True)
    # then
    assert Agency.objects.get().status == AgencyStatus.PENDING


def test_expiry_suspends_dependent_services_and_notices_ahead(service):
    # given: one certificate expired yesterday, another expires in ten days
    expired = AgencyServiceFactory(service=service, qualified=False)
    expired.qualifications.add(
        QualificationFactory(
            agency=expired.agency, valid_until=timezone.localdate() - timedelta(days=1)
        )
    )
    expiring = AgencyServiceFactory(service=service, qualified=False)
    expiring.qualifications.add(
        QualificationFactory(
            agency=expiring.agency, valid_until=timezone.localdate() + timedelta(days=10)
        )
    )
    # when
    first = suspend_expired_qualifications()
    second = suspend_expired_qualifications()
    # then
    assert first == {"suspended": 1, "noticed": 1}
    assert second == {"suspended": 0, "noticed": 0}
    expired.refresh_from_db()
    expiring.refresh_from_db()
    assert expired.status == AgencyServiceStatus.SUSPENDED
    assert "EIA" in expired.status_reason
    assert expiring.status == AgencyServiceStatus.ACTIVE
    assert Notification.objects.get().recipient == expiring.agency.submitted_by
