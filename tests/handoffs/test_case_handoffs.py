"""The acceptance handoff of a real case: who it comes from, rollback, deemed acceptance."""

from __future__ import annotations

import pytest

from apps.cases import services as case_services
from apps.cases.constants import CaseStatus
from apps.cases.permissions import CaseActor
from apps.handoffs.models import Handoff
from apps.identity.constants import StaffRole
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


def _submitted(department, clerk):
    return case_in(
        CaseStatus.SUBMITTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk,
        reviewer=reviewer_of(department),
    )


def test_source_department_is_the_clerks_oldest_active_membership(department) -> None:
    # given a clerk of a hall department (joined first) who also works for the case's department
    hall = DepartmentFactory(name="南昌市行政审批局")
    clerk = StaffMembershipFactory(department=hall, role=StaffRole.CLERK).user
    StaffMembershipFactory(user=clerk, department=department, role=StaffRole.CLERK)
    # and a second clerk who joined them the other way round, then left the case department
    # once and came back (its row updated, so an unordered scan could return it first)
    other = clerk_of(department)
    StaffMembershipFactory(user=other, department=hall, role=StaffRole.CLERK)
    first = other.memberships.order_by("pk").first()
    first.is_active = False
    first.save()
    first.is_active = True
    first.save()
    # when each accepts a case
    handoffs = []
    for actor in (clerk, other):
        case = _submitted(department, actor)
        case_services.accept_case(case_id=case.pk, actor=CaseActor.of(actor))
        handoffs.append(Handoff.objects.get(subject_type="cases.case", subject_id=str(case.pk)))
    # then the source is each clerk's oldest active membership; the target the case's department
    assert [h.source_department_id for h in handoffs] == [hall.pk, department.pk]
    assert {h.target_department_id for h in handoffs} == {department.pk}


def test_a_failed_acceptance_leaves_no_handoff(department, monkeypatch) -> None:
    # given a submitted case and an acceptance that fails after the handoff row was written
    clerk = clerk_of(department)
    case = _submitted(department, clerk)
    from apps.handoffs import services as handoff_services

    real_enqueue = handoff_services.enqueue_handoff

    def enqueue_then_fail(**kwargs):
        real_enqueue(**kwargs)
        raise RuntimeError("crash after the outbox write")

    monkeypatch.setattr(handoff_services, "enqueue_handoff", enqueue_then_fail)
    # when it is accepted
    with pytest.raises(RuntimeError):
        case_services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    # then neither the state change nor the handoff exists
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert not Handoff.objects.filter(subject_type="cases.case", subject_id=str(case.pk)).exists()
