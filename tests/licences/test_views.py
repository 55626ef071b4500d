"""Wallet pages (/licences/) and the public verification page (/licences/verify/)."""

import re

import pytest

from django.urls import reverse

from apps.identity.services import add_licence_administrator
from apps.licences.constants import LicenceAction
from apps.licences.models import VerificationRecord, VerificationToken
from apps.licences.services import LicenceActor, change_licence_status
from tests.identity.factories import AgentAuthorisationFactory, EnterpriseFactory, verified_user
from tests.licences.factories import enterprise_licence, person_licence

pytestmark = pytest.mark.django_db


def test_wallet_lists_the_holders_licences(client, department, django_assert_max_num_queries):
    # given
    holder = verified_user("钱多多")
    for name in ("机动车驾驶证", "居民身份证"):
        person_licence(department, holder=holder, name=name, face_data={"XM": "钱多多"})
    person_licence(department)  # someone else's
    client.force_login(holder)

    # when: session, user, licences with type+issuer, enterprises of the user (+ auth checks)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("licences:wallet"))

    # then
    assert response.status_code == 200
    body = response.content.decode()
    assert body.count("licence-card__name") == 2
    assert "style=" not in body
    assert "<script>" not in body


def test_detail_shows_history_and_uses(client, department, django_assert_max_num_queries):
    holder = verified_user()
    licence = person_licence(department, holder=holder)
    client.force_login(holder)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("licences:detail", args=[licence.pk]))
    assert response.status_code == 200
    assert licence.identifier in response.content.decode()


@pytest.mark.parametrize("_case", ["anonymous_redirected", "another_citizen", "agent_out_of_scope"])
def test_others_cannot_open_a_licence(client, department, _case):
    # given: an enterprise licence
    enterprise = EnterpriseFactory()
    licence = enterprise_licence(department, enterprise=enterprise)
    if _case == "another_citizen":
        client.force_login(verified_user())
    if _case == "agent_out_of_scope":
        agent = AgentAuthorisationFactory(
            enterprise=enterprise, scope="items", item_codes=["X-1"]
        ).agent
        client.force_login(agent)

    # when
    pages = [
        client.get(reverse("licences:detail", args=[licence.pk])),
        client.get(reverse("licences:download", args=[licence.pk])),
        client.post(reverse("licences:qr", args=[licence.pk]), {"purpose": "show"}),
        client.get(reverse("licences:wallet"), {"enterprise": enterprise.pk}),
    ]

    # then
    expected = 302 if _case == "anonymous_redirected" else 404
    assert [p.status_code for p in pages] == [expected] * 4
    assert VerificationToken.objects.count() == 0


@pytest.mark.parametrize("capacity", ["legal_rep", "licence_admin", "agent_for_all_business"])
def test_enterprise_people_open_the_enterprise_wallet(client, department, capacity):
    # given: an enterprise's licence, and a person acting for it in one of the capacities
    enterprise = EnterpriseFactory()
    licence = enterprise_licence(department, enterprise=enterprise)
    person = enterprise.legal_representative
    if capacity == "licence_admin":
        person = verified_user("钱证照")
        add_licence_administrator(
            actor=enterprise.legal_representative, enterprise=enterprise, user=person
        )
    if capacity == "agent_for_all_business":
        person = AgentAuthorisationFactory(enterprise=enterprise).agent
    client.force_login(person)
    # when
    wallet = client.get(reverse("licences:wallet"), {"enterprise": enterprise.pk})
    detail = client.get(reverse("licences:detail", args=[licence.pk]))
    # then
    assert (wallet.status_code, detail.status_code) == (200, 200)
    assert "营业执照" in wallet.content.decode()
    assert licence.identifier in detail.content.decode()


def test_qr_leads_to_the_verify_page_which_follows_the_status(client, department):
    # given: the holder makes a QR
    holder = verified_user("冯晓")
    licence = person_licence(department, holder=holder)
    client.force_login(holder)
    qr_page = client.post(reverse("licences:qr", args=[licence.pk]), {"purpose": "show"})
    assert qr_page.status_code == 200
    url = re.search(
        r'href="(http://testserver/licences/verify/\?token=[^"]+)"', qr_page.content.decode()
    )
    assert url is not None
    assert licence.identifier not in url.group(1)
    client.logout()

    # when / then: valid, then revoked with the date
    page = client.get(url.group(1))
    assert "该证照真实有效" in page.content.decode()
    assert "冯*" in page.content.decode()
    change_licence_status(
        licence_id=licence.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.REVOKE,
        reason="测试",
    )
    page = client.get(url.group(1))
    assert re.search(r"该证照已吊销（\d{4}-\d{2}-\d{2}）", page.content.decode())
    assert list(VerificationRecord.objects.values_list("outcome", flat=True).order_by("pk")) == [
        "valid",
        "invalid",
    ]


def test_clerk_opens_a_shown_licence_and_the_holder_sees_the_use(client, department, clerk):
    # given: the holder shows the licence (a show token)
    holder = verified_user("韩梅")
    licence = person_licence(department, holder=holder)
    client.force_login(holder)
    qr_page = client.post(reverse("licences:qr", args=[licence.pk]), {"purpose": "show"})
    url = re.search(r'href="([^"]+token=[^"]+)"', qr_page.content.decode()).group(1)

    # when: a clerk scans it in the office
    client.force_login(clerk)
    page = client.post(reverse("licences-office:show"), {"code": url})

    # then
    assert page.status_code == 200
    assert licence.identifier in page.content.decode()
    use = licence.uses.get()
    assert (use.user, use.department, use.basis, use.is_allowed) == (
        clerk,
        department,
        "shown",
        True,
    )
    client.force_login(holder)
    assert (
        "持证人亮证，窗口核验"
        in client.get(reverse("licences:detail", args=[licence.pk])).content.decode()
    )


def test_citizen_cannot_use_the_office_page(client, department):
    client.force_login(verified_user())
    assert client.post(reverse("licences-office:show"), {"code": "x"}).status_code == 403
