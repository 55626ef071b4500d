"""Service codes (一人一码 / 一企一码): format, issue, redeem (reuse, expiry, forgery), pages."""

import threading
from datetime import timedelta

import pytest
import time_machine

from django.db import connection
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases.views.office import INTAKE_SESSION_KEY
from apps.core.exceptions import DomainError
from apps.identity import service_codes, services
from apps.identity.constants import AuthorisationScope, StaffRole
from apps.identity.models import ServiceCode
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    PersonFactory,
    StaffMembershipFactory,
    valid_id_number,
    verified_user,
)

pytestmark = pytest.mark.django_db


# --- format -----------------------------------------------------------------------------------


def test_code_format_round_trips_with_typing_slack() -> None:
    # given
    code, random_part = service_codes.new_code()

    # then
    assert len(code) == 13
    assert set(code) <= set(service_codes.ALPHABET)
    typed = service_codes.display(code).lower().replace("0", "o").replace("1", "l")
    assert service_codes.verified_random_part(typed) == random_part
    assert service_codes.verified_random_part(service_codes.qr_payload(code)) == random_part
    assert service_codes.verified_random_part(f"  {code[:4]} {code[4:]} ") == random_part


def test_a_changed_character_breaks_the_signature() -> None:
    # given
    code, _ = service_codes.new_code()
    changed = code[:3] + ("A" if code[3] != "A" else "B") + code[4:]

    # then
    assert service_codes.verified_random_part(changed) is None
    assert service_codes.verified_random_part(code[:-1]) is None
    assert service_codes.verified_random_part("") is None


# --- issue and redeem -------------------------------------------------------------------------


@pytest.fixture
def holder():
    return verified_user("赵晓明")


def test_issue_stores_only_a_keyed_hash_and_expires_in_120_seconds(holder) -> None:
    # when
    issued = services.issue_service_code(user=holder)

    # then
    row = ServiceCode.objects.get()
    random_part = service_codes.verified_random_part(issued.code)
    assert row.token_hash == service_codes.token_hash(random_part)
    assert random_part not in row.token_hash
    assert row.expires_at - row.created_at == timedelta(seconds=120)
    assert issued.qr_payload == "GPSC1:" + issued.code
    assert holder.person.id_number not in issued.qr_payload
    assert AuditEvent.objects.filter(action="identity.service_code_issued").count() == 1


def test_redeem_identifies_the_holder_once(holder, clerk) -> None:
    # given
    issued = services.issue_service_code(user=holder)

    # when
    identified = services.redeem_service_code(issued.display.lower(), clerk=clerk)

    # then
    assert identified.user == holder
    assert (identified.enterprise, identified.capacity) == (None, "self")
    row = ServiceCode.objects.get()
    assert row.used_at is not None
    assert row.redeemed_by == clerk
    event = AuditEvent.objects.get(action="identity.service_code_redeemed")
    assert event.actor_id == clerk.pk
    assert event.data["holder_id"] == holder.pk


def test_a_used_code_is_refused(holder, clerk) -> None:
    # given
    issued = services.issue_service_code(user=holder)
    services.redeem_service_code(issued.code, clerk=clerk)

    # when / then
    with pytest.raises(DomainError, match="该服务码已被使用") as exc:
        services.redeem_service_code(issued.code, clerk=clerk)
    assert exc.value.code == "code_used"
    assert AuditEvent.objects.filter(action="identity.service_code_redeemed").count() == 1


def test_an_expired_code_is_refused(holder, clerk) -> None:
    # given
    issued = services.issue_service_code(user=holder)

    # when / then
    with (
        time_machine.travel(timezone.now() + timedelta(seconds=121)),
        pytest.raises(DomainError, match="服务码已过期") as exc,
    ):
        services.redeem_service_code(issued.code, clerk=clerk)
    assert exc.value.code == "code_expired"
    assert ServiceCode.objects.get().used_at is None


def test_a_new_code_supersedes_the_previous_one(holder, clerk) -> None:
    # given
    first = services.issue_service_code(user=holder)
    second = services.issue_service_code(user=holder)

    # when / then
    with pytest.raises(DomainError, match="服务码已过期"):
        services.redeem_service_code(first.code, clerk=clerk)
    assert services.redeem_service_code(second.code, clerk=clerk).user == holder


def test_a_forged_code_is_refused_before_any_lookup(
    holder, clerk, django_assert_max_num_queries
) -> None:
    # given: the right shape but a signature made up by the forger
    code, _ = service_codes.new_code()
    forged = code[:8] + ("00000" if code[8:] != "00000" else "11111")

    # when / then: only the clerk's role is read (no transaction, no code lookup)
    with (
        django_assert_max_num_queries(1),
        pytest.raises(DomainError, match="服务码无效") as exc,
    ):
        services.redeem_service_code(forged, clerk=clerk)
    assert exc.value.code == "code_invalid"


def test_a_well_signed_code_that_was_never_issued_is_refused(clerk) -> None:
    code, _ = service_codes.new_code()
    with pytest.raises(DomainError, match="服务码无效"):
        services.redeem_service_code(code, clerk=clerk)


@pytest.mark.parametrize(("_case", "role"), [("citizen", None), ("reviewer", StaffRole.REVIEWER)])
def test_only_window_clerks_redeem(holder, _case, role) -> None:
    # given
    issued = services.issue_service_code(user=holder)
    other = StaffMembershipFactory(role=role).user if role else PersonFactory(verified=True).user

    # when / then
    with pytest.raises(DomainError, match="只有窗口受理人员可以核验服务码"):
        services.redeem_service_code(issued.code, clerk=other)
    assert ServiceCode.objects.get().used_at is None


def test_enterprise_code_of_an_agent_carries_the_authorisation(clerk) -> None:
    # given
    authorisation = AgentAuthorisationFactory(scope=AuthorisationScope.ITEMS, item_codes=["X1"])
    issued = services.issue_service_code(
        user=authorisation.agent, enterprise=authorisation.enterprise
    )

    # when
    identified = services.redeem_service_code(issued.code, clerk=clerk)

    # then
    assert identified.enterprise == authorisation.enterprise
    assert identified.capacity == "agent"
    assert identified.authorisation == authorisation


def test_enterprise_code_is_refused_once_the_authorisation_is_revoked(clerk) -> None:
    # given
    authorisation = AgentAuthorisationFactory()
    issued = services.issue_service_code(
        user=authorisation.agent, enterprise=authorisation.enterprise
    )
    services.revoke_agent_authorisation(
        actor=authorisation.enterprise.legal_representative, authorisation_id=authorisation.pk
    )

    # when / then
    with pytest.raises(DomainError, match="已不能代表该企业办事"):
        services.redeem_service_code(issued.code, clerk=clerk)
    assert ServiceCode.objects.get().used_at is None


def test_no_code_for_an_enterprise_one_cannot_act_for(holder) -> None:
    enterprise = EnterpriseFactory()
    with pytest.raises(DomainError, match="您当前不能代表该企业办事"):
        services.issue_service_code(user=holder, enterprise=enterprise)
    assert ServiceCode.objects.count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_clerks_racing_for_one_code_only_one_wins(department) -> None:
    # given: a committed code and two clerks
    holder = verified_user("赵晓明")
    clerks = [
        StaffMembershipFactory(department=department, role=StaffRole.CLERK).user for _ in range(2)
    ]
    issued = services.issue_service_code(user=holder)
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def redeem(clerk) -> None:
        barrier.wait()
        try:
            services.redeem_service_code(issued.code, clerk=clerk)
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=redeem, args=(clerk,)) for clerk in clerks]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert sorted(outcomes) == ["code_used", "ok"]
    assert AuditEvent.objects.filter(action="identity.service_code_redeemed").count() == 1


# --- the holder's page ------------------------------------------------------------------------


def test_service_code_page_shows_a_qr_and_the_typeable_code(
    client, holder, django_assert_max_num_queries
) -> None:
    # given: an earlier code (superseded by the new one)
    services.issue_service_code(user=holder)
    client.force_login(holder)

    # when
    # queries: session, user, acting enterprises; the issue service: SAVEPOINT, supersede
    # UPDATE, INSERT code, audit (SAVEPOINT, head lock, INSERT event, head UPDATE, RELEASE),
    # RELEASE (savepoints stand for BEGIN/COMMIT inside the test transaction)
    with django_assert_max_num_queries(12):
        response = client.post("/accounts/service-code/")

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "<svg" in html
    assert 'role="img"' in html
    code = response.context["issued"].display
    assert f'data-testid="service-code">{code}<' in html
    assert "no-store" in response["Cache-Control"]
    assert holder.person.id_number not in html


def test_service_code_page_for_an_enterprise(client) -> None:
    # given
    authorisation = AgentAuthorisationFactory()
    client.force_login(authorisation.agent)

    # when
    response = client.post(
        "/accounts/service-code/", {"enterprise": str(authorisation.enterprise.pk)}
    )

    # then
    assert f"代表 {authorisation.enterprise.name} 办事" in response.content.decode()
    assert ServiceCode.objects.get().authorisation == authorisation


def test_service_code_page_refuses_someone_else_s_enterprise(client, holder) -> None:
    client.force_login(holder)
    response = client.post("/accounts/service-code/", {"enterprise": str(EnterpriseFactory().pk)})
    assert response.status_code == 404
    assert ServiceCode.objects.count() == 0


# --- the clerk's identify screen --------------------------------------------------------------


def test_clerk_identifies_by_service_code(client, clerk, holder) -> None:
    # given
    issued = services.issue_service_code(user=holder)
    client.force_login(clerk)

    # when
    response = client.post("/office/identify/", {"code": issued.display})

    # then
    assert response.status_code == 302
    html = client.get(response["Location"]).content.decode()
    assert "已核验申请人身份" in html
    assert "赵*明" in html
    assert holder.person.masked_id_number in html
    assert holder.person.id_number not in html
    assert "赵晓明" not in html


def test_clerk_identifies_an_agent_and_their_enterprise(client, clerk) -> None:
    # given
    authorisation = AgentAuthorisationFactory(scope=AuthorisationScope.ITEMS, item_codes=["X1"])
    issued = services.issue_service_code(
        user=authorisation.agent, enterprise=authorisation.enterprise
    )
    client.force_login(clerk)

    # when
    html = client.post("/office/identify/", {"code": issued.code}, follow=True).content.decode()

    # then
    assert authorisation.enterprise.uscc in html
    assert "经办人 · 精准授权（指定事项）：X1" in html


@pytest.mark.parametrize(
    ("_case", "make_code", "message"),
    [
        ("forged", lambda issued: issued.code[:8] + "ZZZZZ", "服务码无效"),
        ("garbage", lambda issued: "hello", "服务码无效"),
    ],
)
def test_identify_screen_refuses_bad_codes(client, clerk, holder, _case, make_code, message):
    # given
    issued = services.issue_service_code(user=holder)
    client.force_login(clerk)

    # when
    response = client.post("/office/identify/", {"code": make_code(issued)})

    # then
    assert response.status_code == 400
    assert message in response.content.decode()


def test_identify_screen_refuses_reuse_and_expiry(client, clerk, holder) -> None:
    # given
    used = services.issue_service_code(user=holder)
    client.force_login(clerk)
    client.post("/office/identify/", {"code": used.code})

    # when
    reused = client.post("/office/identify/", {"code": used.code})
    stale = services.issue_service_code(user=holder)
    with time_machine.travel(timezone.now() + timedelta(minutes=3)):
        expired = client.post("/office/identify/", {"code": stale.code})

    # then
    assert "该服务码已被使用，请申请人刷新服务码后重新出示" in reused.content.decode()
    assert "服务码已过期，请申请人刷新服务码后重新出示" in expired.content.decode()


def test_clerk_identifies_by_id_number_and_name(
    client, clerk, django_assert_max_num_queries
) -> None:
    # given
    id_number = valid_id_number()
    verified_user("赵晓明", id_number=id_number)
    client.force_login(clerk)

    # when
    # queries: session, user, role check, person lookup (joined user), session save (wrapped
    # in SAVEPOINT/RELEASE inside the test transaction)
    with django_assert_max_num_queries(7):
        response = client.post("/office/identify/", {"id_number": id_number, "name": "赵晓明"})
    # queries: session, user, role check, identified user with person (no enterprise)
    with django_assert_max_num_queries(4):
        page = client.get(response["Location"])

    # then
    assert response.status_code == 302
    assert "赵*明" in page.content.decode()


@pytest.mark.parametrize(
    ("_case", "data", "message"),
    [
        ("nothing", {}, "请扫描服务码，或输入身份证号码和姓名"),
        ("bad id", {"id_number": "360102199002300111", "name": "赵晓明"}, "不存在"),
        ("no name", {"id_number": "11010519491231002X"}, "须填写姓名"),
        ("no match", {"id_number": "11010519491231002X", "name": "赵晓明"}, "未找到"),
    ],
)
def test_identify_screen_errors(client, clerk, _case, data, message) -> None:
    client.force_login(clerk)
    response = client.post("/office/identify/", data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_identify_screen_is_for_clerks_only(client, holder) -> None:
    client.force_login(holder)
    assert client.get("/office/identify/").status_code == 403


# --- the cases intake uses the same service ---------------------------------------------------


def test_intake_identifies_by_service_code(client, clerk, holder) -> None:
    # given
    issued = services.issue_service_code(user=holder)
    client.force_login(clerk)

    # when
    response = client.post("/office/intake/", {"step": "identify", "service_code": issued.code})
    again = client.post(
        "/office/intake/", {"step": "identify", "service_code": issued.code}, follow=True
    )

    # then
    assert response.status_code == 302
    assert client.session[INTAKE_SESSION_KEY]["user"] == holder.pk
    assert "该服务码已被使用" in again.content.decode()
