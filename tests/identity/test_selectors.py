"""Who may act for an enterprise: legal representative, licence admins, agents within scope."""

from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone

from apps.identity import services
from apps.identity.constants import AssuranceLevel, AuthorisationScope, EnterpriseStatus
from apps.identity.selectors import acting_enterprises, active_authorisation, can_act_for
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    PersonFactory,
    UserFactory,
    verified_user,
)

pytestmark = pytest.mark.django_db

ITEM = "11360100D00000152J4000111A00001"
BASIC = "000111001000"
OTHER = "11360100D00000152J4000222A00001"


@pytest.fixture
def item_grant():
    return AgentAuthorisationFactory(scope=AuthorisationScope.ITEMS, item_codes=[ITEM])


@pytest.mark.parametrize(
    ("_case", "codes", "allowed"),
    [
        ("listed_item", ITEM, True),
        ("listed_item_among_codes", [ITEM, BASIC], True),
        ("other_item", OTHER, False),
        ("no_item_given", None, True),
    ],
)
def test_item_level_agent_within_and_outside_scope(item_grant, _case, codes, allowed) -> None:
    found = active_authorisation(item_grant.agent, item_grant.enterprise, codes)
    assert (found == item_grant) is allowed
    assert can_act_for(item_grant.agent, item_grant.enterprise, codes) is allowed


def test_basic_code_grant_covers_item_by_its_basic_code() -> None:
    grant = AgentAuthorisationFactory(scope=AuthorisationScope.ITEMS, item_codes=[BASIC])
    assert active_authorisation(grant.agent, grant.enterprise, [ITEM, BASIC]) == grant
    assert active_authorisation(grant.agent, grant.enterprise, ITEM) is None


def test_all_business_grant_covers_any_item_and_is_preferred(item_grant) -> None:
    broad = AgentAuthorisationFactory(
        enterprise=item_grant.enterprise,
        agent=item_grant.agent,
        scope=AuthorisationScope.ALL,
        expires_at=timezone.now() + timedelta(days=1),
    )
    assert active_authorisation(item_grant.agent, item_grant.enterprise, ITEM) == broad
    assert active_authorisation(item_grant.agent, item_grant.enterprise, OTHER) == broad


def test_agent_after_expiry(item_grant) -> None:
    with time_machine.travel(item_grant.expires_at + timedelta(seconds=1)):
        assert active_authorisation(item_grant.agent, item_grant.enterprise, ITEM) is None
        assert not can_act_for(item_grant.agent, item_grant.enterprise, ITEM)
        assert list(acting_enterprises(item_grant.agent)) == []


def test_not_yet_valid_is_not_active(item_grant) -> None:
    with time_machine.travel(item_grant.valid_from - timedelta(minutes=1)):
        assert active_authorisation(item_grant.agent, item_grant.enterprise) is None


def test_agent_of_inactive_enterprise(item_grant) -> None:
    item_grant.enterprise.status = EnterpriseStatus.REVOKED
    item_grant.enterprise.save()
    assert active_authorisation(item_grant.agent, item_grant.enterprise, ITEM) is None
    assert list(acting_enterprises(item_grant.agent)) == []


def test_acting_enterprises_lists_each_capacity_once() -> None:
    # given a person who is legal rep of one, licence admin of another and agent of a third
    user = verified_user("全能")
    own = EnterpriseFactory(legal_representative=user, name="甲公司")
    administered = EnterpriseFactory(name="乙公司")
    services.add_licence_administrator(
        actor=administered.legal_representative, enterprise=administered, user=user
    )
    agent_of = AgentAuthorisationFactory(agent=user, enterprise=EnterpriseFactory(name="丙公司"))
    AgentAuthorisationFactory(agent=user, enterprise=agent_of.enterprise)  # a second grant
    EnterpriseFactory(name="丁公司")  # unrelated
    # when / then
    assert list(acting_enterprises(user)) == sorted(
        [own, administered, agent_of.enterprise], key=lambda e: e.name
    )


def test_legal_rep_acts_without_authorisation() -> None:
    enterprise = EnterpriseFactory()
    rep = enterprise.legal_representative
    assert active_authorisation(rep, enterprise) is None
    assert can_act_for(rep, enterprise, ITEM)


def test_user_properties() -> None:
    person = PersonFactory(name="欧阳娜娜", verified=True)
    assert person.user.assurance_level == AssuranceLevel.L2
    assert person.user.display_name == "欧阳娜娜"
    assert person.user.masked_name == "欧**娜"
    bare = UserFactory(username="nobody")
    assert bare.assurance_level == AssuranceLevel.L1
    assert bare.display_name == "nobody"
