"""The wallet's authorisation page (用证授权) and the audit of refused wallet pages."""

from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.licences.models import UseAuthorisation
from apps.licences.services import LicenceActor, grant_use_authorisation, read_licence_for_use
from tests.identity.factories import EnterpriseFactory, verified_user
from tests.licences.factories import enterprise_licence, person_licence

pytestmark = pytest.mark.django_db


def _tomorrow() -> str:
    return (timezone.localdate() + timedelta(days=30)).isoformat()


def test_holder_grants_sees_and_revokes(
    client, department, other_department, clerk, django_assert_max_num_queries
):
    # given
    holder = verified_user("秦风")
    licence = person_licence(department, holder=holder)
    client.force_login(holder)
    url = reverse("licences:authorisations")

    # when: the holder lets the other department read this licence
    response = client.post(
        url,
        {
            "department": other_department.pk,
            "licence": licence.pk,
            "purpose": "办理入学手续核验身份",
            "expires_on": _tomorrow(),
        },
    )
    assert response.status_code == 302
    grant = UseAuthorisation.objects.get()
    assert (grant.holder_user, grant.department, grant.licence) == (
        holder,
        other_department,
        licence,
    )

    # then: the page lists it (session, user, licences, grants, departments, types)
    with django_assert_max_num_queries(8):
        page = client.get(url)
    body = page.content.decode()
    assert other_department.name in body
    assert "办理入学手续核验身份" in body
    assert "style=" not in body

    # and a revoke ends it
    assert client.post(url, {"revoke": grant.pk}).status_code == 302
    grant.refresh_from_db()
    assert grant.revoked_at is not None


def test_bad_grant_is_refused_with_chinese_errors(client, department, other_department):
    holder = verified_user("秦雨")
    person_licence(department, holder=holder)
    client.force_login(holder)
    response = client.post(
        reverse("licences:authorisations"),
        {
            "department": other_department.pk,
            "purpose": "x",
            "expires_on": timezone.localdate().isoformat(),
        },
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "请选择授权的证照或证照类型" in body
    assert "授权截止日期应晚于今天" in body
    assert UseAuthorisation.objects.count() == 0


def test_someone_else_cannot_revoke(client, department, other_department):
    holder = verified_user("秦岭")
    licence = person_licence(department, holder=holder)
    grant = grant_use_authorisation(
        user=holder,
        department=other_department,
        purpose="核验",
        expires_at=timezone.now() + timedelta(days=3),
        licence=licence,
    )
    client.force_login(verified_user("外人"))
    response = client.post(reverse("licences:authorisations"), {"revoke": grant.pk})
    assert response.status_code == 400
    assert "只能撤销自己作出的授权" in response.content.decode()
    grant.refresh_from_db()
    assert grant.revoked_at is None


def test_enterprise_grant_lets_the_department_read(client, department, other_department):
    # given: the legal representative authorises the other department for the business licence
    enterprise = EnterpriseFactory()
    licence = enterprise_licence(department, enterprise=enterprise)
    client.force_login(enterprise.legal_representative)
    client.post(
        reverse("licences:authorisations") + f"?enterprise={enterprise.pk}",
        {
            "enterprise": enterprise.pk,
            "department": other_department.pk,
            "licence_type": licence.licence_type.pk,
            "purpose": "招投标资格审查",
            "expires_on": _tomorrow(),
        },
    )
    # then
    read = read_licence_for_use(
        identifier=licence.identifier,
        actor=LicenceActor(department=other_department),
        purpose="招投标资格审查",
    )
    assert read == licence


def test_refused_wallet_pages_are_audited(client, department):
    licence = enterprise_licence(department, enterprise=EnterpriseFactory())
    other = EnterpriseFactory()
    client.force_login(verified_user("路人"))
    pages = [
        client.get(reverse("licences:detail", args=[licence.pk])),
        client.get(reverse("licences:download", args=[licence.pk])),
        client.post(reverse("licences:qr", args=[licence.pk])),
        client.get(reverse("licences:wallet"), {"enterprise": other.pk}),
        client.get(reverse("licences:authorisations"), {"enterprise": other.pk}),
    ]
    assert [p.status_code for p in pages] == [404] * 5
    events = AuditEvent.objects.filter(action="licences.access_refused").order_by("pk")
    assert [e.data["channel"] for e in events] == [
        "wallet.detail",
        "wallet.download",
        "wallet.qr",
        "wallet.enterprise",
        "wallet.enterprise",
    ]
