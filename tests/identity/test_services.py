"""Identity services: real-name checks against the registries, enterprises and agents."""

from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.constants import (
    AssuranceLevel,
    AssuranceMethod,
    AuthorisationScope,
    EnterpriseStatus,
    RegistryStatus,
    RevokeReason,
)
from apps.identity.models import AgentAuthorisation, AssuranceRaise, Enterprise, Person
from apps.identity.selectors import active_authorisation
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


def _audit(action: str) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- accounts and levels ----------------------------------------------------------------------


def test_create_person_account_is_l1_with_history() -> None:
    # when
    user = services.create_person_account(
        username="newbie", password="a-long-password-1", phone="13811112222"
    )
    # then
    person = Person.objects.get(user=user)
    assert person.assurance_level == AssuranceLevel.L1
    assert person.phone == "13811112222"
    raise_row = AssuranceRaise.objects.get(person=person)
    assert (raise_row.from_level, raise_row.to_level, raise_row.method) == (0, 1, "phone_sms")
    assert _audit("identity.account_registered") == 1


def test_create_person_account_refuses_registered_phone() -> None:
    PersonFactory(phone="13811112222")
    with pytest.raises(DomainError, match="该手机号码已注册"):
        services.create_person_account(username="again", password="x" * 12, phone="13811112222")


def test_population_registry_match_raises_to_l2() -> None:
    # given a registry entry and an L1 account
    id_number = valid_id_number()
    PopulationRecordFactory(name="赵晓明", id_number=id_number)
    person = PersonFactory(phone="13811112222")
    # when
    services.verify_real_name(user=person.user, name="赵晓明 ", id_number=id_number.lower())
    # then
    person.refresh_from_db()
    assert person.assurance_level == AssuranceLevel.L2
    assert person.name == "赵晓明"
    assert person.id_number == id_number
    assert person.level_raised_at is not None
    raise_row = AssuranceRaise.objects.get(person=person, to_level=2)
    assert raise_row.method == AssuranceMethod.POPULATION_REGISTRY
    event = AuditEvent.objects.get(action="identity.real_name_verified")
    assert id_number not in str(event.data)


@pytest.mark.parametrize(
    ("_case", "registry_name", "registry_status", "given_name", "code"),
    [
        ("name_differs", "赵晓明", RegistryStatus.NORMAL, "赵小明", "registry_mismatch"),
        ("deceased", "赵晓明", RegistryStatus.DECEASED, "赵晓明", "registry_mismatch"),
    ],
)
def test_population_registry_mismatch_refused_and_nothing_written(
    _case: str, registry_name: str, registry_status: str, given_name: str, code: str
) -> None:
    # given
    id_number = valid_id_number()
    PopulationRecordFactory(name=registry_name, id_number=id_number, status=registry_status)
    person = PersonFactory()
    # when
    with pytest.raises(DomainError) as excinfo:
        services.verify_real_name(user=person.user, name=given_name, id_number=id_number)
    # then
    assert excinfo.value.code == code
    assert "姓名与身份证号码不一致" in excinfo.value.message
    person.refresh_from_db()
    assert person.assurance_level == AssuranceLevel.L1
    assert person.id_number is None
    assert _audit("identity.real_name_verified") == 0


def test_number_not_in_registry_refused() -> None:
    person = PersonFactory()
    with pytest.raises(DomainError, match="人口库中无此记录"):
        services.verify_real_name(user=person.user, name="无名", id_number=valid_id_number())


def test_invalid_id_number_refused_before_registry() -> None:
    person = PersonFactory()
    with pytest.raises(DomainError, match="校验位错误") as excinfo:
        services.verify_real_name(user=person.user, name="张三", id_number="110105194912310021")
    assert excinfo.value.code == "invalid_id_number"


def test_id_number_of_another_account_refused() -> None:
    # given someone already verified with the number
    holder = verified_user("赵晓明")
    id_number = holder.person.id_number
    other = PersonFactory()
    # when / then
    with pytest.raises(DomainError) as excinfo:
        services.verify_real_name(user=other.user, name="赵晓明", id_number=id_number)
    assert excinfo.value.code == "id_taken"


def test_window_check_raises_to_l4_with_clerk(clerk) -> None:
    user = verified_user()
    services.raise_assurance_level(
        user=user, to_level=AssuranceLevel.L4, method=AssuranceMethod.WINDOW, raised_by=clerk
    )
    row = AssuranceRaise.objects.get(person__user=user, to_level=4)
    assert (row.from_level, row.raised_by) == (2, clerk)


def test_wrong_method_for_level_refused() -> None:
    user = verified_user()
    with pytest.raises(DomainError) as excinfo:
        services.raise_assurance_level(
            user=user, to_level=AssuranceLevel.L4, method=AssuranceMethod.FACE
        )
    assert excinfo.value.code == "method_level_mismatch"


# --- enterprises ------------------------------------------------------------------------------


def test_bind_enterprise_when_registry_names_the_person() -> None:
    # given
    user = verified_user("陈静")
    record = LegalPersonRecordFactory(
        legal_rep_name="陈静", legal_rep_id_number=user.person.id_number
    )
    # when
    enterprise = services.bind_enterprise(user=user, uscc=record.uscc)
    # then
    assert enterprise.legal_representative == user
    assert (enterprise.name, enterprise.legal_rep_name) == (record.name, "陈静")
    assert _audit("identity.enterprise_bound") == 1


def test_bind_enterprise_refused_for_someone_else() -> None:
    user = verified_user("陈静")
    record = LegalPersonRecordFactory(legal_rep_name="陈静", legal_rep_id_number=valid_id_number())
    with pytest.raises(DomainError) as excinfo:
        services.bind_enterprise(user=user, uscc=record.uscc)
    assert excinfo.value.code == "not_legal_rep"
    assert Enterprise.objects.count() == 0


def test_bind_enterprise_refused_when_cancelled() -> None:
    user = verified_user("陈静")
    record = LegalPersonRecordFactory(
        legal_rep_name="陈静",
        legal_rep_id_number=user.person.id_number,
        status=EnterpriseStatus.CANCELLED,
    )
    with pytest.raises(DomainError, match="注销"):
        services.bind_enterprise(user=user, uscc=record.uscc)


def test_bind_enterprise_refuses_bad_credit_code() -> None:
    user = verified_user()
    with pytest.raises(DomainError, match="校验位错误"):
        services.bind_enterprise(user=user, uscc="91110108551385082A")


def test_new_legal_representative_voids_authorisations() -> None:
    # given an enterprise with an agent and a licence admin, whose registry now names someone else
    authorisation = AgentAuthorisationFactory()
    enterprise = authorisation.enterprise
    admin = verified_user("王五")
    services.add_licence_administrator(
        actor=enterprise.legal_representative, enterprise=enterprise, user=admin
    )
    successor = verified_user("孙六")
    LegalPersonRecordFactory(
        uscc=enterprise.uscc, legal_rep_name="孙六", legal_rep_id_number=successor.person.id_number
    )
    # when the new representative binds the enterprise
    services.bind_enterprise(user=successor, uscc=enterprise.uscc)
    # then
    authorisation.refresh_from_db()
    assert authorisation.revoke_reason == RevokeReason.LEGAL_REP_CHANGED
    assert authorisation.revoked_at is not None
    assert enterprise.roles.filter(revoked_at__isnull=True).count() == 0
    assert active_authorisation(authorisation.agent, enterprise) is None


def test_at_most_five_licence_administrators() -> None:
    enterprise = EnterpriseFactory()
    rep = enterprise.legal_representative
    for n in range(5):
        services.add_licence_administrator(
            actor=rep, enterprise=enterprise, user=verified_user(f"管理员{n}")
        )
    with pytest.raises(DomainError) as excinfo:
        services.add_licence_administrator(
            actor=rep, enterprise=enterprise, user=verified_user("第六人")
        )
    assert excinfo.value.code == "too_many_admins"


def test_only_legal_rep_adds_licence_administrators() -> None:
    enterprise = EnterpriseFactory()
    stranger = verified_user("路人")
    with pytest.raises(DomainError) as excinfo:
        services.add_licence_administrator(
            actor=stranger, enterprise=enterprise, user=verified_user("某人")
        )
    assert excinfo.value.code == "not_legal_rep"


# --- agent authorisations ---------------------------------------------------------------------


def test_grant_item_level_authorisation() -> None:
    # given
    enterprise = EnterpriseFactory()
    agent = verified_user("李四")
    # when
    authorisation = services.grant_agent_authorisation(
        actor=enterprise.legal_representative,
        enterprise=enterprise,
        agent=agent,
        scope=AuthorisationScope.ITEMS,
        item_codes=[" 11360100D00000152J4000111A00001 ", "000111001000"],
    )
    # then
    assert authorisation.item_codes == ["000111001000", "11360100D00000152J4000111A00001"]
    assert authorisation.expires_at > timezone.now() + timedelta(days=29)
    assert _audit("identity.agent_authorised") == 1


def test_licence_admin_may_grant_and_removing_admin_voids_their_grants() -> None:
    enterprise = EnterpriseFactory()
    admin = verified_user("管理员")
    role = services.add_licence_administrator(
        actor=enterprise.legal_representative, enterprise=enterprise, user=admin
    )
    authorisation = services.grant_agent_authorisation(
        actor=admin, enterprise=enterprise, agent=verified_user("李四"), scope="all"
    )
    services.remove_licence_administrator(actor=enterprise.legal_representative, role_id=role.pk)
    authorisation.refresh_from_db()
    assert authorisation.revoke_reason == RevokeReason.GRANTOR_REMOVED


@pytest.mark.parametrize(
    ("_case", "kwargs", "code"),
    [
        ("items_without_codes", {"scope": "items", "item_codes": []}, "no_items"),
        ("bad_scope", {"scope": "some"}, "invalid_scope"),
        (
            "expiry_in_past",
            {"scope": "all", "expires_at": timezone.now() - timedelta(days=1)},
            "expiry_in_past",
        ),
        (
            "expiry_too_far",
            {"scope": "all", "expires_at": timezone.now() + timedelta(days=400)},
            "expiry_too_far",
        ),
    ],
)
def test_grant_refused(_case: str, kwargs: dict, code: str) -> None:
    enterprise = EnterpriseFactory()
    with pytest.raises(DomainError) as excinfo:
        services.grant_agent_authorisation(
            actor=enterprise.legal_representative,
            enterprise=enterprise,
            agent=verified_user("李四"),
            **kwargs,
        )
    assert excinfo.value.code == code
    assert AgentAuthorisation.objects.count() == 0


def test_unverified_agent_refused() -> None:
    enterprise = EnterpriseFactory()
    with pytest.raises(DomainError) as excinfo:
        services.grant_agent_authorisation(
            actor=enterprise.legal_representative,
            enterprise=enterprise,
            agent=PersonFactory().user,
            scope="all",
        )
    assert excinfo.value.code == "needs_l2"


def test_agent_cannot_grant() -> None:
    authorisation = AgentAuthorisationFactory()
    with pytest.raises(DomainError) as excinfo:
        services.grant_agent_authorisation(
            actor=authorisation.agent,
            enterprise=authorisation.enterprise,
            agent=verified_user("王五"),
            scope="all",
        )
    assert excinfo.value.code == "not_allowed_to_grant"


def test_revoke_authorisation_is_idempotent_and_audited() -> None:
    authorisation = AgentAuthorisationFactory()
    rep = authorisation.enterprise.legal_representative
    services.revoke_agent_authorisation(actor=rep, authorisation_id=authorisation.pk)
    services.revoke_agent_authorisation(actor=rep, authorisation_id=authorisation.pk)
    authorisation.refresh_from_db()
    assert authorisation.revoke_reason == RevokeReason.REVOKED
    assert _audit("identity.agent_authorisation_revoked") == 1
    assert active_authorisation(authorisation.agent, authorisation.enterprise) is None


def test_agent_cannot_revoke() -> None:
    authorisation = AgentAuthorisationFactory()
    with pytest.raises(DomainError):
        services.revoke_agent_authorisation(
            actor=authorisation.agent, authorisation_id=authorisation.pk
        )
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None


def test_authorisation_expires() -> None:
    enterprise = EnterpriseFactory()
    agent = verified_user("李四")
    services.grant_agent_authorisation(
        actor=enterprise.legal_representative,
        enterprise=enterprise,
        agent=agent,
        scope="all",
        expires_at=timezone.now() + timedelta(days=2),
    )
    assert active_authorisation(agent, enterprise) is not None
    with time_machine.travel(timezone.now() + timedelta(days=2, seconds=1)):
        assert active_authorisation(agent, enterprise) is None
