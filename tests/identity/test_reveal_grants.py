"""The department administrator's page for per-object reveal grants (django-guardian), and
the superuser shortcut closed."""

import pytest

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.constants import StaffRole
from tests.identity.factories import StaffMembershipFactory, UserFactory, verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def subject():
    return verified_user("赵晓明")


@pytest.fixture
def supervisor(department):
    return StaffMembershipFactory(department=department, role=StaffRole.SUPERVISOR).user


def test_dept_admin_grants_and_revokes_on_the_page(
    client, dept_admin, supervisor, subject, django_assert_max_num_queries
) -> None:
    # given
    client.force_login(dept_admin)
    # session, user, administered departments, staff choices, memberships, grants (empty: no
    # person query), departments
    with django_assert_max_num_queries(7):
        page = client.get("/office/reveal-grants/")
    assert page.status_code == 200
    assert "目前没有授权" in page.content.decode()

    # when: grant
    response = client.post(
        "/office/reveal-grants/",
        {
            "staff": supervisor.pk,
            "id_number": subject.person.id_number,
            "name": "赵晓明",
            "reason": "督查案件 2026-017 核实身份",
        },
    )

    # then
    assert response.status_code == 302
    number = services.reveal_person_id_number(staff=supervisor, subject=subject, reason="督查")
    assert number == subject.person.id_number
    html = client.get("/office/reveal-grants/").content.decode()
    assert subject.person.masked_id_number in html
    assert subject.person.id_number not in html
    granted = AuditEvent.objects.get(action="identity.reveal_permission_granted")
    assert granted.actor_id == dept_admin.pk
    assert granted.data["reason"] == "督查案件 2026-017 核实身份"

    # when: revoke
    from guardian.models import UserObjectPermission

    grant_id = UserObjectPermission.objects.get(user=supervisor).pk
    response = client.post(f"/office/reveal-grants/{grant_id}/revoke/")

    # then
    assert response.status_code == 302
    with pytest.raises(DomainError):
        services.reveal_person_id_number(staff=supervisor, subject=subject, reason="督查")
    revoked = AuditEvent.objects.get(action="identity.reveal_permission_revoked")
    assert revoked.data["existed"] is True
    assert revoked.actor_id == dept_admin.pk


def test_grant_form_refuses_unknown_people_and_missing_reason(
    client, dept_admin, supervisor, subject
) -> None:
    client.force_login(dept_admin)
    response = client.post(
        "/office/reveal-grants/",
        {
            "staff": supervisor.pk,
            "id_number": subject.person.id_number,
            "name": "赵小明",
            "reason": "督查",
        },
    )
    assert response.status_code == 400
    assert "未找到与该身份证号码和姓名相符的实名用户" in response.content.decode()
    response = client.post(
        "/office/reveal-grants/",
        {"staff": supervisor.pk, "id_number": subject.person.id_number, "name": "赵晓明"},
    )
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="identity.reveal_permission_granted").exists()


def test_staff_of_another_department_cannot_be_chosen(
    client, dept_admin, other_department, subject
) -> None:
    outsider = StaffMembershipFactory(department=other_department, role=StaffRole.CLERK).user
    client.force_login(dept_admin)
    response = client.post(
        "/office/reveal-grants/",
        {
            "staff": outsider.pk,
            "id_number": subject.person.id_number,
            "name": "赵晓明",
            "reason": "跨部门",
        },
    )
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="identity.reveal_permission_granted").exists()


def test_only_department_administrators_see_the_page(client, clerk, subject) -> None:
    client.force_login(clerk)
    assert client.get("/office/reveal-grants/").status_code == 403
    client.force_login(subject)
    assert client.get("/office/reveal-grants/").status_code == 403


def test_a_superuser_with_a_membership_has_no_reveal_basis_by_that_alone(
    department, subject
) -> None:
    # given: a superuser who also holds an ordinary membership
    superuser = UserFactory(username="root-clerk", is_superuser=True, is_staff=True)
    StaffMembershipFactory(user=superuser, department=department, role=StaffRole.REVIEWER)

    # when / then
    with pytest.raises(DomainError) as excinfo:
        services.reveal_person_id_number(staff=superuser, subject=subject, reason="随便看看")
    assert excinfo.value.code == "reveal_not_allowed"
    assert not AuditEvent.objects.filter(action="identity.id_number_revealed").exists()
