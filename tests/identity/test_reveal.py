"""Audited reveal of a full ID number: on what basis, by whom, and the clerk's screen."""

from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone
from guardian.shortcuts import get_perms

from apps.audit.models import AuditEvent
from apps.cases.constants import CaseStatus
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.constants import StaffRole
from tests.cases.factories import case_in, item_version
from tests.identity.factories import StaffMembershipFactory, valid_id_number, verified_user

pytestmark = pytest.mark.django_db


def _reveals() -> int:
    return AuditEvent.objects.filter(action="identity.id_number_revealed").count()


@pytest.fixture
def subject():
    return verified_user("赵晓明", id_number=valid_id_number())


def _at_window(subject, clerk) -> None:
    issued = services.issue_service_code(user=subject)
    services.redeem_service_code(issued.code, clerk=clerk)


def test_clerk_who_just_identified_the_person_may_reveal_with_a_reason(subject, clerk) -> None:
    # given
    _at_window(subject, clerk)

    # when
    number = services.reveal_person_id_number(staff=clerk, subject=subject, reason="核对户籍证明")

    # then
    assert number == subject.person.id_number
    event = AuditEvent.objects.get(action="identity.id_number_revealed")
    assert event.actor_id == clerk.pk
    assert event.data == {"subject_id": subject.pk, "reason": "核对户籍证明", "basis": "window"}
    assert subject.person.id_number not in str(event.data)


def test_window_basis_lapses(subject, clerk, settings) -> None:
    # given
    _at_window(subject, clerk)

    # when / then
    later = timezone.now() + timedelta(minutes=settings.SERVICE_CODE_REVEAL_MINUTES + 1)
    with time_machine.travel(later), pytest.raises(DomainError, match="您无权查看"):
        services.reveal_person_id_number(staff=clerk, subject=subject, reason="核对户籍证明")
    assert _reveals() == 0


def test_another_clerk_without_a_basis_is_refused(subject, clerk, other_department) -> None:
    # given
    _at_window(subject, clerk)
    stranger = StaffMembershipFactory(department=other_department, role=StaffRole.CLERK).user

    # when / then
    with pytest.raises(DomainError, match="您无权查看该申请人的完整身份证号码"):
        services.reveal_person_id_number(staff=stranger, subject=subject, reason="随便看看")
    assert _reveals() == 0


def test_a_reason_is_required(subject, clerk) -> None:
    _at_window(subject, clerk)
    with pytest.raises(DomainError, match="请填写查看完整身份证号码的事由"):
        services.reveal_person_id_number(staff=clerk, subject=subject, reason="  ")
    assert _reveals() == 0


def test_citizens_never_reveal(subject) -> None:
    with pytest.raises(DomainError, match="您无权查看"):
        services.reveal_person_id_number(
            staff=verified_user("路人"), subject=subject, reason="想看看"
        )


def test_staff_of_the_department_handling_the_person_s_case(
    subject, department, other_department
) -> None:
    # given: a case of the subject accepted in ``department``
    clerk = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    reviewer = StaffMembershipFactory(department=department, role=StaffRole.REVIEWER).user
    case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=subject,
        clerk=clerk,
        reviewer=reviewer,
    )
    supervisor = StaffMembershipFactory(department=department, role=StaffRole.SUPERVISOR).user
    elsewhere = StaffMembershipFactory(department=other_department, role=StaffRole.REVIEWER).user

    # when
    number = services.reveal_person_id_number(staff=reviewer, subject=subject, reason="审查材料")

    # then
    assert number == subject.person.id_number
    assert AuditEvent.objects.get(action="identity.id_number_revealed").data["basis"] == "case"
    for refused in (supervisor, elsewhere):
        with pytest.raises(DomainError, match="您无权查看"):
            services.reveal_person_id_number(staff=refused, subject=subject, reason="审查材料")


# --- per-object grant (django-guardian) ---------------------------------------------------------


def test_dept_admin_grants_one_person_to_one_supervisor(subject, department, dept_admin) -> None:
    # given: a supervisor who has no other basis
    supervisor = StaffMembershipFactory(department=department, role=StaffRole.SUPERVISOR).user
    with pytest.raises(DomainError):
        services.reveal_person_id_number(staff=supervisor, subject=subject, reason="督查核实")

    # when
    services.grant_reveal_permission(
        granted_by=dept_admin,
        staff=supervisor,
        subject=subject,
        department=department.pk,
        reason="12345 投诉督办核实身份",
    )

    # then: this person only
    assert get_perms(supervisor, subject.person) == ["reveal_id_number"]
    number = services.reveal_person_id_number(staff=supervisor, subject=subject, reason="督查核实")
    assert number == subject.person.id_number
    assert AuditEvent.objects.get(action="identity.id_number_revealed").data["basis"] == "grant"
    someone_else = verified_user("钱七")
    with pytest.raises(DomainError):
        services.reveal_person_id_number(staff=supervisor, subject=someone_else, reason="督查核实")
    assert AuditEvent.objects.filter(action="identity.reveal_permission_granted").count() == 1


def test_only_a_dept_admin_of_the_staff_member_s_department_grants(
    subject, department, other_department, clerk
) -> None:
    # given
    foreign_admin = StaffMembershipFactory(
        department=other_department, role=StaffRole.DEPT_ADMIN
    ).user

    # when / then
    with pytest.raises(DomainError, match="只有部门管理员"):
        services.grant_reveal_permission(
            granted_by=clerk,
            staff=clerk,
            subject=subject,
            department=department.pk,
            reason="自己给自己",
        )
    with pytest.raises(DomainError, match="只能授予本部门工作人员"):
        services.grant_reveal_permission(
            granted_by=foreign_admin,
            staff=clerk,
            subject=subject,
            department=other_department.pk,
            reason="跨部门授权",
        )
    assert get_perms(clerk, subject.person) == []


# --- the clerk's screen -----------------------------------------------------------------------


def test_identify_screen_reveals_on_request_and_audits(client, clerk, subject) -> None:
    # given: identified by service code
    issued = services.issue_service_code(user=subject)
    client.force_login(clerk)
    page = client.post("/office/identify/", {"code": issued.code}, follow=True).content.decode()
    assert subject.person.masked_id_number in page
    assert subject.person.id_number not in page
    assert "查看完整身份证号码" in page

    # when
    response = client.post("/office/identify/reveal/", {"reason": "核对户籍证明"})

    # then
    assert response.status_code == 200
    assert subject.person.id_number in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert _reveals() == 1
    # and the next view of the screen is masked again
    assert subject.person.id_number not in client.get("/office/identify/").content.decode()


def test_identify_screen_refuses_reveal_without_a_reason_or_basis(client, clerk, subject) -> None:
    # given: identified by ID card (no service code, no case): no basis
    client.force_login(clerk)
    client.post("/office/identify/", {"id_number": subject.person.id_number, "name": "赵晓明"})

    # when
    no_reason = client.post("/office/identify/reveal/", {"reason": ""})
    no_basis = client.post("/office/identify/reveal/", {"reason": "核对户籍证明"})

    # then
    assert no_reason.status_code == 400
    assert "请填写查看完整身份证号码的事由" in no_reason.content.decode()
    assert no_basis.status_code == 403
    assert "您无权查看该申请人的完整身份证号码" in no_basis.content.decode()
    assert subject.person.id_number not in no_basis.content.decode()
    assert _reveals() == 0
