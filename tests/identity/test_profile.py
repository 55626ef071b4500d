"""个人中心: real-name verification, enterprises, granting and revoking agents (pages)."""

from datetime import timedelta

import pytest

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.identity.constants import AssuranceLevel, AuthorisationScope, RevokeReason
from apps.identity.demo import make_id_number
from apps.identity.models import AgentAuthorisation, Enterprise, Person
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    LegalPersonRecordFactory,
    PersonFactory,
    PopulationRecordFactory,
    valid_id_number,
    verified_user,
)

pytestmark = pytest.mark.django_db


def _html(response) -> str:
    return response.content.decode()


# --- the page ---------------------------------------------------------------------------------


def test_profile_of_an_l1_citizen_offers_real_name_verification(
    client, django_assert_max_num_queries
) -> None:
    # given
    user = PersonFactory(phone="13512345678").user
    client.force_login(user)

    # when
    # queries: session, user, person, level raises, managed enterprises (+ prefetch skipped when
    # empty), authorisations held
    with django_assert_max_num_queries(6):
        response = client.get("/accounts/profile/")

    # then
    assert response.status_code == 200
    html = _html(response)
    assert "L1 注册用户（手机号验证）" in html
    assert "135****5678" in html
    assert "13512345678" not in html
    assert "提升到 L2：实名核验" in html
    assert 'action="/accounts/profile/verify/"' in html


def test_profile_of_a_legal_rep_lists_enterprises_and_agents_with_masking(
    client, django_assert_max_num_queries
) -> None:
    # given: a legal representative with two agents, one revoked
    rep = verified_user("陈静")
    enterprise = EnterpriseFactory(legal_representative=rep, name="赣鄱示范有限公司")
    agent_id = valid_id_number()
    active = AgentAuthorisationFactory(
        enterprise=enterprise, agent=verified_user("李四海", id_number=agent_id)
    )
    AgentAuthorisationFactory(
        enterprise=enterprise,
        agent=verified_user("王五"),
        revoked_at=timezone.now(),
        revoke_reason=RevokeReason.REVOKED,
    )
    client.force_login(rep)

    # when
    # queries: session, user, person, level raises, managed enterprises, their authorisations
    # (agents and persons joined), their licence administrators (persons joined), authorisations
    # held
    with django_assert_max_num_queries(8):
        response = client.get("/accounts/profile/")

    # then
    html = _html(response)
    assert "赣鄱示范有限公司" in html
    assert "法定代表人" in html
    assert "李*海" in html
    assert "王*" in html
    assert "李四海" not in html
    assert agent_id not in html
    assert rep.person.id_number not in html
    assert rep.person.masked_id_number in html
    assert f'action="/accounts/profile/authorisations/{active.pk}/revoke/"' in html
    assert html.count("/revoke/") == 1  # the revoked one has no button
    assert "已撤销（授权人撤销）" in html


def test_agent_sees_the_enterprises_they_act_for(client) -> None:
    # given
    authorisation = AgentAuthorisationFactory(
        scope=AuthorisationScope.ITEMS, item_codes=["11360100000000000000000000000001"]
    )
    client.force_login(authorisation.agent)

    # when
    html = _html(client.get("/accounts/profile/"))

    # then
    assert authorisation.enterprise.name in html
    assert "经办人 · 精准授权（指定事项）：11360100000000000000000000000001" in html


def test_profile_requires_login(client) -> None:
    assert client.get("/accounts/profile/")["Location"].startswith("/accounts/login/")


# --- real-name verification (L1 → L2) -----------------------------------------------------------


def test_verify_real_name_against_the_population_registry(client) -> None:
    # given
    id_number = valid_id_number()
    PopulationRecordFactory(name="赵晓明", id_number=id_number)
    user = PersonFactory(phone="13512345678").user
    client.force_login(user)

    # when
    response = client.post(
        "/accounts/profile/verify/", {"name": " 赵晓明 ", "id_number": id_number.lower()}
    )

    # then
    assert response.status_code == 302
    assert response["Location"] == "/accounts/profile/#level"
    person = Person.objects.get(user=user)
    assert person.assurance_level == AssuranceLevel.L2
    assert person.id_number == id_number
    page = _html(client.get("/accounts/profile/"))
    assert "实名核验通过" in page
    assert "姓名+身份证号比对人口库" in page
    assert "L1 → L2" in page
    assert "提升到 L2：实名核验" not in page
    assert id_number not in page


def _bad_numbers() -> list[tuple[str, str, str]]:
    good = valid_id_number()
    wrong_check = good[:-1] + ("0" if good[-1] != "0" else "1")
    feb_30 = make_id_number("360102", "19900230", 11)
    future = make_id_number("360102", f"{timezone.localdate().year + 1}0101", 11)
    return [
        ("wrong check digit", wrong_check, "身份证号码校验位错误"),
        ("too short", good[:17], "身份证号码应为18位（当前17位）"),
        ("letters", "36010219900101001A", "前17位应为数字"),
        ("impossible birth date", feb_30, "出生日期 19900230 不存在"),
        ("future birth date", future, "不合理"),
    ]


@pytest.mark.parametrize(("_case", "id_number", "message"), _bad_numbers())
def test_verify_rejects_bad_id_numbers_in_chinese(client, _case, id_number, message) -> None:
    # given
    user = PersonFactory().user
    client.force_login(user)

    # when
    response = client.post("/accounts/profile/verify/", {"name": "赵晓明", "id_number": id_number})

    # then
    assert response.status_code == 400
    assert message in _html(response)
    assert Person.objects.get(user=user).assurance_level == AssuranceLevel.L1


def test_verify_refuses_a_registry_mismatch(client) -> None:
    # given
    id_number = valid_id_number()
    PopulationRecordFactory(name="赵晓明", id_number=id_number)
    user = PersonFactory().user
    client.force_login(user)

    # when
    response = client.post("/accounts/profile/verify/", {"name": "赵小明", "id_number": id_number})

    # then
    assert response.status_code == 400
    assert "姓名与身份证号码不一致，或人口库中无此记录" in _html(response)
    assert Person.objects.get(user=user).assurance_level == AssuranceLevel.L1
    assert AuditEvent.objects.filter(action="identity.real_name_verified").count() == 0


# --- enterprises ------------------------------------------------------------------------------


def test_bind_enterprise_named_in_the_legal_person_registry(client) -> None:
    # given
    id_number = valid_id_number()
    rep = verified_user("陈静", id_number=id_number)
    record = LegalPersonRecordFactory(legal_rep_name="陈静", legal_rep_id_number=id_number)
    client.force_login(rep)

    # when
    response = client.post("/accounts/profile/enterprises/bind/", {"uscc": record.uscc.lower()})

    # then
    assert response.status_code == 302
    enterprise = Enterprise.objects.get(uscc=record.uscc)
    assert enterprise.legal_representative == rep
    assert "已绑定企业" in _html(client.get("/accounts/profile/"))


@pytest.mark.parametrize(
    ("_case", "uscc", "message"),
    [
        ("wrong check", "91110108551385082A", "统一社会信用代码校验位错误"),
        ("wrong length", "9111010855138508", "统一社会信用代码应为18位"),
        ("forbidden letter", "9111010855138508IQ", "不得含 I、O、Z、S、V"),
    ],
)
def test_bind_rejects_bad_credit_codes(client, _case, uscc, message) -> None:
    # given
    client.force_login(verified_user())

    # when
    response = client.post("/accounts/profile/enterprises/bind/", {"uscc": uscc})

    # then
    assert response.status_code == 400
    assert message in _html(response)
    assert Enterprise.objects.count() == 0


def test_bind_refuses_someone_else_s_enterprise(client) -> None:
    # given
    record = LegalPersonRecordFactory(legal_rep_name="陈静")
    client.force_login(verified_user("陈静"))

    # when
    response = client.post("/accounts/profile/enterprises/bind/", {"uscc": record.uscc})

    # then
    assert response.status_code == 400
    assert "法人库登记的法定代表人不是您本人" in _html(response)
    assert Enterprise.objects.count() == 0


# --- granting and revoking agents -------------------------------------------------------------


@pytest.fixture
def rep_enterprise():
    rep = verified_user("陈静")
    return rep, EnterpriseFactory(legal_representative=rep)


def test_grant_agent_by_phone_for_named_items(client, rep_enterprise) -> None:
    # given
    rep, enterprise = rep_enterprise
    agent = PersonFactory(verified=True, phone="13698765432", name="李四").user
    expiry = timezone.localdate() + timedelta(days=10)
    client.force_login(rep)

    # when
    response = client.post(
        f"/accounts/profile/enterprises/{enterprise.pk}/agents/",
        {
            "agent_phone": "136 9876 5432",
            "scope": "items",
            "item_codes": "A001，A002 A001",
            "expires_on": expiry.isoformat(),
        },
    )

    # then
    assert response.status_code == 302
    authorisation = AgentAuthorisation.objects.get()
    assert (authorisation.agent, authorisation.granted_by) == (agent, rep)
    assert authorisation.item_codes == ["A001", "A002"]
    assert timezone.localtime(authorisation.expires_at).date() == expiry + timedelta(days=1)
    assert "已授权 李* 代表" in _html(client.get("/accounts/profile/"))


def test_grant_agent_by_id_number_and_name(client, rep_enterprise) -> None:
    # given
    rep, enterprise = rep_enterprise
    id_number = valid_id_number()
    agent = verified_user("李四", id_number=id_number)
    client.force_login(rep)

    # when
    response = client.post(
        f"/accounts/profile/enterprises/{enterprise.pk}/agents/",
        {
            "agent_id_number": id_number,
            "agent_name": "李四",
            "scope": "all",
            "expires_on": (timezone.localdate() + timedelta(days=30)).isoformat(),
        },
    )

    # then
    assert response.status_code == 302
    assert AgentAuthorisation.objects.get().agent == agent


@pytest.mark.parametrize(
    ("_case", "data", "message"),
    [
        ("nobody", {"agent_phone": "13600000000", "scope": "all"}, "未找到与所填信息相符"),
        ("no agent given", {"scope": "all"}, "请填写经办人手机号码，或身份证号码和姓名"),
        ("id, no name", {"agent_id_number": "11010519491231002X", "scope": "all"}, "须填写姓名"),
        ("items without codes", {"agent_phone": "13698765432", "scope": "items"}, "至少填写一个"),
        ("bad phone", {"agent_phone": "1369876", "scope": "all"}, "请输入11位中国大陆手机号码"),
    ],
)
def test_grant_errors_are_shown_in_chinese(client, rep_enterprise, _case, data, message) -> None:
    # given
    rep, enterprise = rep_enterprise
    PersonFactory(verified=True, phone="13698765432")
    client.force_login(rep)
    data = {"expires_on": (timezone.localdate() + timedelta(days=5)).isoformat(), **data}

    # when
    response = client.post(f"/accounts/profile/enterprises/{enterprise.pk}/agents/", data)

    # then
    assert response.status_code == 400
    assert message in _html(response)
    assert AgentAuthorisation.objects.count() == 0


def test_grant_refuses_an_unverified_agent(client, rep_enterprise) -> None:
    # given
    rep, enterprise = rep_enterprise
    PersonFactory(phone="13698765432")  # L1 only
    client.force_login(rep)

    # when
    response = client.post(
        f"/accounts/profile/enterprises/{enterprise.pk}/agents/",
        {
            "agent_phone": "13698765432",
            "scope": "all",
            "expires_on": (timezone.localdate() + timedelta(days=5)).isoformat(),
        },
    )

    # then
    assert response.status_code == 400
    assert AgentAuthorisation.objects.count() == 0


def test_someone_else_cannot_grant_or_revoke_for_the_enterprise(client, rep_enterprise) -> None:
    # given
    _rep, enterprise = rep_enterprise
    authorisation = AgentAuthorisationFactory(enterprise=enterprise)
    client.force_login(authorisation.agent)  # an agent, not a manager

    # when
    grant = client.post(
        f"/accounts/profile/enterprises/{enterprise.pk}/agents/",
        {"agent_phone": "13698765432", "scope": "all", "expires_on": "2099-01-01"},
    )
    revoke = client.post(f"/accounts/profile/authorisations/{authorisation.pk}/revoke/")

    # then
    assert (grant.status_code, revoke.status_code) == (404, 404)
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None


def test_revoke_agent(client, rep_enterprise) -> None:
    # given
    rep, enterprise = rep_enterprise
    authorisation = AgentAuthorisationFactory(enterprise=enterprise)
    client.force_login(rep)

    # when
    response = client.post(f"/accounts/profile/authorisations/{authorisation.pk}/revoke/")

    # then
    assert response.status_code == 302
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is not None
    assert authorisation.revoked_by == rep
    assert "授权已撤销" in _html(client.get("/accounts/profile/"))
    assert AuditEvent.objects.filter(action="identity.agent_authorisation_revoked").count() == 1
