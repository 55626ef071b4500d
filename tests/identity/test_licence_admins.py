"""Licence administrators (证照管理员, at most five) managed on the profile page by the legal
representative, with the limit and audit enforced; the Django admin only shows them."""

import pytest

from apps.audit.models import AuditEvent
from apps.identity import services
from apps.identity.constants import RevokeReason
from apps.identity.models import EnterpriseRole
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    UserFactory,
    verified_user,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def enterprise():
    return EnterpriseFactory(legal_representative=verified_user("陈静"))


def _add(client, enterprise, **data):
    return client.post(f"/accounts/profile/enterprises/{enterprise.pk}/admins/", data)


def test_legal_rep_appoints_by_phone_and_by_id_number(client, enterprise) -> None:
    # given
    by_phone = verified_user("王五", phone="13600001111")
    by_id = verified_user("赵六")
    client.force_login(enterprise.legal_representative)

    # when
    first = _add(client, enterprise, admin_phone="136 0000 1111")
    second = _add(client, enterprise, admin_id_number=by_id.person.id_number, admin_name="赵六")

    # then
    assert first.status_code == second.status_code == 302
    assert first["Location"] == f"/accounts/profile/#admins-{enterprise.pk}"
    active = EnterpriseRole.objects.filter(enterprise=enterprise, revoked_at__isnull=True)
    assert {role.user for role in active} == {by_phone, by_id}
    assert AuditEvent.objects.filter(action="identity.licence_admin_added").count() == 2
    html = client.get("/accounts/profile/").content.decode()
    assert "证照管理员（2/5）" in html
    assert "王*" in html
    assert "赵*" in html
    assert by_id.person.id_number not in html


def test_the_sixth_administrator_is_refused_with_a_chinese_message(client, enterprise) -> None:
    # given
    rep = enterprise.legal_representative
    for n in range(5):
        services.add_licence_administrator(
            actor=rep, enterprise=enterprise, user=verified_user(f"管理员{n}")
        )
    sixth = verified_user("第六人", phone="13600002222")
    client.force_login(rep)
    assert "证照管理员已达上限（5名）" in client.get("/accounts/profile/").content.decode()

    # when: a crafted POST anyway
    response = _add(client, enterprise, admin_phone="13600002222")

    # then
    assert response.status_code == 400
    assert "证照管理员最多5名" in response.content.decode()
    assert not EnterpriseRole.objects.filter(user=sixth).exists()


def test_unverified_or_unknown_people_and_the_rep_themselves_are_refused(client, enterprise):
    client.force_login(enterprise.legal_representative)
    response = _add(client, enterprise, admin_phone="13600003333")
    assert response.status_code == 400
    assert "证照管理员须先注册并完成实名核验" in response.content.decode()
    response = _add(client, enterprise)
    assert "请填写证照管理员手机号码，或身份证号码和姓名" in response.content.decode()
    rep = enterprise.legal_representative
    response = _add(
        client, enterprise, admin_id_number=rep.person.id_number, admin_name=rep.person.name
    )
    assert "法定代表人无需设置为证照管理员" in response.content.decode()
    assert not EnterpriseRole.objects.exists()


def test_only_the_legal_rep_may_appoint_or_remove(client, enterprise) -> None:
    # given: a licence administrator (who may grant agents, but not appoint administrators)
    admin = verified_user("王五")
    role = services.add_licence_administrator(
        actor=enterprise.legal_representative, enterprise=enterprise, user=admin
    )
    client.force_login(admin)

    # when / then
    assert _add(client, enterprise, admin_phone="13600001111").status_code == 404
    assert client.post(f"/accounts/profile/admins/{role.pk}/remove/").status_code == 404
    assert "证照管理员（" not in client.get("/accounts/profile/").content.decode()
    role.refresh_from_db()
    assert role.revoked_at is None


def test_removing_an_administrator_voids_their_grants(client, enterprise) -> None:
    # given
    admin = verified_user("王五")
    role = services.add_licence_administrator(
        actor=enterprise.legal_representative, enterprise=enterprise, user=admin
    )
    granted = AgentAuthorisationFactory(enterprise=enterprise, granted_by=admin)
    client.force_login(enterprise.legal_representative)

    # when
    response = client.post(f"/accounts/profile/admins/{role.pk}/remove/")

    # then
    assert response.status_code == 302
    role.refresh_from_db()
    granted.refresh_from_db()
    assert role.revoked_at is not None
    assert granted.revoke_reason == RevokeReason.GRANTOR_REMOVED
    assert AuditEvent.objects.get(action="identity.licence_admin_removed").actor_id == (
        enterprise.legal_representative_id
    )


def test_django_admin_inline_is_read_only(client, enterprise) -> None:
    # given
    admin = verified_user("王五")
    services.add_licence_administrator(
        actor=enterprise.legal_representative, enterprise=enterprise, user=admin
    )
    client.force_login(UserFactory(username="site-admin", is_staff=True, is_superuser=True))
    stranger = verified_user("路人")

    # when: a crafted POST tries to add a role row through the inline
    response = client.post(
        f"/admin/identity/enterprise/{enterprise.pk}/change/",
        {
            "name": enterprise.name,
            "legal_rep_name": enterprise.legal_rep_name,
            "status": enterprise.status,
            "address": "",
            "roles-TOTAL_FORMS": "1",
            "roles-INITIAL_FORMS": "0",
            "roles-0-user": stranger.pk,
            "roles-0-role": "licence_admin",
        },
    )

    # then: the inline is shown read-only and writes nothing
    assert response.status_code == 302
    assert not EnterpriseRole.objects.filter(user=stranger).exists()
    page = client.get(f"/admin/identity/enterprise/{enterprise.pk}/change/").content.decode()
    assert 'name="roles-0-user"' not in page
