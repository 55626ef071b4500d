"""A dead-lettered case handoff stays with the case's department (issue 6, Deliver 3).

Only the case's own department may answer a case (行政许可 jurisdiction), so re-routing a case
handoff elsewhere would leave a department that can acknowledge but never answer. Re-routing
is refused with a message; the department fixes its endpoint and the administrator retries.
"""

from __future__ import annotations

import pytest

from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus
from apps.core.exceptions import DomainError
from apps.handoffs import services
from apps.handoffs.constants import AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.models import Handoff
from apps.identity.constants import StaffRole
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def dead_case_handoff(department) -> Handoff:
    """The acceptance handoff of a real case, dead-lettered after a push the department refused."""
    case = case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )
    handoff = Handoff.objects.get(subject_type="cases.case", subject_id=str(case.pk))
    handoff.attempt_log.create(
        number=1, mode=DeliveryMode.PUSH, outcome=AttemptOutcome.FAILED, status_code=404
    )
    Handoff.objects.filter(pk=handoff.pk).update(
        state=HandoffState.DEAD, attempts=1, last_error="HTTP 404: no such route"
    )
    handoff.refresh_from_db()
    assert handoff.target_department_id == case.department_id == department.pk
    return handoff


def _admin_of(department) -> Client:
    client = Client()
    client.force_login(
        StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    )
    return client


def test_rerouting_a_case_handoff_is_refused_with_a_message(department, dead_case_handoff) -> None:
    # given the case department's administrator and another, active department
    elsewhere = DepartmentFactory(name="南昌市行政审批局")
    client = _admin_of(department)
    # when they look at the dead letter: no re-route form, a hint pointing to the endpoint
    page = client.get(reverse("handoffs:detail", args=[dead_case_handoff.pk])).content.decode()
    assert 'id="reroute-target"' not in page
    assert "不能改派" in page
    assert reverse("handoffs:endpoint-department", args=[department.pk]) in page
    # when they post a re-route anyway
    response = client.post(
        reverse("handoffs:reroute", args=[dead_case_handoff.pk]),
        {"target_department": elsewhere.pk},
        follow=True,
    )
    # then it is refused with the reason, and nothing changed
    assert "不能改派到其他部门" in response.content.decode()
    dead_case_handoff.refresh_from_db()
    assert dead_case_handoff.state == HandoffState.DEAD
    assert dead_case_handoff.target_department_id == department.pk
    assert not AuditEvent.objects.filter(action="handoffs.rerouted").exists()


def test_service_refuses_too(department, dead_case_handoff) -> None:
    admin = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    with pytest.raises(DomainError) as error:
        services.reroute_handoff(
            handoff_id=dead_case_handoff.pk,
            target_department=DepartmentFactory(),
            actor=admin,
        )
    assert error.value.code == "target_fixed"


def test_after_fixing_the_endpoint_a_retry_reaches_the_department_and_it_can_answer(
    department, dead_case_handoff, dept_client
) -> None:
    # given the department switches to the portal's office queue (its own system is down)
    admin = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    services.configure_endpoint(department=department, actor=admin, mode=DeliveryMode.INTERNAL)
    # when the administrator retries the dead letter and the worker delivers it
    response = _admin_of(department).post(reverse("handoffs:retry", args=[dead_case_handoff.pk]))
    assert response.status_code == 302
    assert services.deliver_handoff(handoff_id=dead_case_handoff.pk) == "delivered"
    dead_case_handoff.refresh_from_db()
    assert (dead_case_handoff.state, dead_case_handoff.mode) == (
        HandoffState.DELIVERED,
        DeliveryMode.INTERNAL,
    )
    # then the department answers it, and the case follows
    answer = dept_client.post(
        f"/api/v1/handoffs/{dead_case_handoff.pk}/answers/",
        {"kind": "decision", "data": {"decision": "approved", "complete": True}},
        format="json",
        HTTP_IDEMPOTENCY_KEY="after-retry-0001",
    )
    assert answer.status_code == 201
    assert answer.json()["applied"] is True
    dead_case_handoff.refresh_from_db()
    assert dead_case_handoff.state == HandoffState.ACKNOWLEDGED
    from apps.cases.models import Case

    assert Case.objects.get(pk=dead_case_handoff.subject_id).status == CaseStatus.COMPLETED


def test_subjects_without_a_bound_department_can_still_be_rerouted(
    department, other_department
) -> None:
    # the generic path stays: a handoff whose subject has no answer handler
    from tests.handoffs.factories import HandoffFactory

    handoff = HandoffFactory(
        source_department=department, target_department=other_department, state=HandoffState.DEAD
    )
    right = DepartmentFactory(name="南昌市行政审批局")
    admin = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    services.reroute_handoff(handoff_id=handoff.pk, target_department=right, actor=admin)
    handoff.refresh_from_db()
    assert (handoff.target_department_id, handoff.state) == (right.pk, HandoffState.PENDING)
