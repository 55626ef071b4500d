"""Change of legal representative (DOMAIN.md §4.3): when the 法人库 names someone else, the old
representative's role ends and every agent authorisation and licence administrator role granted
under them is voided, audited, with SMS notices — through the registry sync, the Django admin
and the nightly re-check."""

import pytest

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.identity import services
from apps.identity.constants import EnterpriseStatus, RevokeReason
from apps.identity.models import AgentAuthorisation, EnterpriseRole, LegalPersonRecord
from apps.identity.selectors import can_act_for, enterprise_capacity
from apps.identity.tasks import recheck_legal_representatives
from tests.identity.factories import (
    AgentAuthorisationFactory,
    EnterpriseFactory,
    LegalPersonRecordFactory,
    PersonFactory,
    UserFactory,
    valid_id_number,
    verified_user,
)

pytestmark = pytest.mark.django_db

OLD_REP_PHONE = "13900000011"
AGENT_PHONE = "13900000012"
ADMIN_PHONE = "13900000013"


@pytest.fixture
def bound():
    """An enterprise bound to 张伟 (named by its 法人库 record), with an agent granted by the
    representative, a licence administrator, and an agent granted by that administrator."""
    rep = verified_user("张伟", phone=OLD_REP_PHONE)
    record = LegalPersonRecordFactory(
        legal_rep_name="张伟", legal_rep_id_number=rep.person.id_number
    )
    enterprise = EnterpriseFactory(
        uscc=record.uscc, name=record.name, legal_representative=rep, registry_record=record
    )
    agent = verified_user("李四", phone=AGENT_PHONE)
    by_rep = AgentAuthorisationFactory(enterprise=enterprise, agent=agent)
    admin = verified_user("王五", phone=ADMIN_PHONE)
    services.add_licence_administrator(actor=rep, enterprise=enterprise, user=admin)
    by_admin = AgentAuthorisationFactory(
        enterprise=enterprise, agent=verified_user("赵六"), granted_by=admin
    )
    return {
        "rep": rep,
        "record": record,
        "enterprise": enterprise,
        "agent": agent,
        "admin": admin,
        "authorisations": [by_rep, by_admin],
    }


def _assert_everything_ended(bound, source: str) -> None:
    enterprise = bound["enterprise"]
    enterprise.refresh_from_db()
    assert enterprise.legal_representative_id is None
    assert enterprise.legal_rep_name == "孙七"
    for authorisation in bound["authorisations"]:
        authorisation.refresh_from_db()
        assert authorisation.revoked_at is not None
        assert authorisation.revoke_reason == RevokeReason.LEGAL_REP_CHANGED
    assert not EnterpriseRole.objects.filter(enterprise=enterprise, revoked_at__isnull=True)
    # nobody of the old side may act any longer
    for user in (bound["rep"], bound["agent"], bound["admin"]):
        assert enterprise_capacity(user, enterprise) is None
        assert not can_act_for(user, enterprise)
    with pytest.raises(DomainError):
        services.issue_service_code(user=bound["rep"], enterprise=enterprise)
    event = AuditEvent.objects.get(action="identity.legal_representative_ended")
    assert event.data == {
        "uscc": enterprise.uscc,
        "previous_user_id": bound["rep"].pk,
        "voided_authorisations": 2,
        "ended_admin_roles": 1,
        "source": source,
    }


def test_registry_sync_naming_someone_else_ends_the_old_side(
    bound, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: the registry now names 孙七
    successor_id = valid_id_number()
    successor = verified_user("孙七", id_number=successor_id)

    # when
    with django_capture_on_commit_callbacks(execute=True):
        result = services.sync_legal_person_record(
            uscc=bound["record"].uscc,
            name=bound["record"].name,
            legal_rep_name="孙七",
            legal_rep_id_number=successor_id,
        )

    # then
    assert result.representative_ended
    assert (result.voided_authorisations, result.ended_admin_roles) == (2, 1)
    _assert_everything_ended(bound, "registry_sync")
    texts = {message.to: message.text for message in sms_outbox}
    assert set(texts) == {OLD_REP_PHONE, AGENT_PHONE, ADMIN_PHONE}
    assert "代表该企业办事的权限已终止" in texts[OLD_REP_PHONE]
    assert "授权已失效" in texts[AGENT_PHONE]
    assert "证照管理员身份已终止" in texts[ADMIN_PHONE]
    # the successor binds and manages the enterprise from now on
    enterprise = services.bind_enterprise(user=successor, uscc=bound["record"].uscc)
    assert enterprise.legal_representative == successor


def test_registry_sync_naming_the_same_person_changes_nothing(bound, sms_outbox) -> None:
    # when: the same representative, a new address
    result = services.sync_legal_person_record(
        uscc=bound["record"].uscc,
        name=bound["record"].name,
        legal_rep_name="张伟",
        legal_rep_id_number=bound["rep"].person.id_number,
        address="南昌市红谷滩区丰和中大道1号",
    )

    # then
    assert not result.representative_ended
    bound["enterprise"].refresh_from_db()
    assert bound["enterprise"].legal_representative == bound["rep"]
    assert AgentAuthorisation.objects.active().count() == 2
    assert not AuditEvent.objects.filter(action="identity.legal_representative_ended").exists()
    assert sms_outbox == []


def test_registry_sync_of_a_cancelled_enterprise_stops_its_agents(bound) -> None:
    # when
    result = services.sync_legal_person_record(
        uscc=bound["record"].uscc,
        name=bound["record"].name,
        legal_rep_name="张伟",
        legal_rep_id_number=bound["rep"].person.id_number,
        status=EnterpriseStatus.CANCELLED,
    )

    # then
    assert result.status_changed
    assert not result.representative_ended
    bound["enterprise"].refresh_from_db()
    assert bound["enterprise"].status == EnterpriseStatus.CANCELLED
    assert not can_act_for(bound["agent"], bound["enterprise"])
    assert AuditEvent.objects.filter(action="identity.enterprise_synced_from_registry").exists()


def test_registry_sync_refuses_bad_numbers_and_writes_nothing(bound) -> None:
    with pytest.raises(DomainError) as excinfo:
        services.sync_legal_person_record(
            uscc=bound["record"].uscc,
            name="x",
            legal_rep_name="孙七",
            legal_rep_id_number="360102199001010000",
        )
    assert excinfo.value.code == "invalid_id_number"
    bound["record"].refresh_from_db()
    assert bound["record"].legal_rep_name == "张伟"


def test_nightly_recheck_follows_the_registry_and_is_idempotent(
    bound, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: the replicated registry table changed behind the portal's back; another bound
    # enterprise is unchanged
    record = bound["record"]
    record.legal_rep_name = "孙七"
    record.set_legal_rep_id_number(valid_id_number())
    record.save()
    other_rep = verified_user("钱八")
    other_record = LegalPersonRecordFactory(
        legal_rep_name="钱八", legal_rep_id_number=other_rep.person.id_number
    )
    other = EnterpriseFactory(
        uscc=other_record.uscc, name=other_record.name, legal_representative=other_rep
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        changed = recheck_legal_representatives.apply().get()

    # then
    assert changed == 1
    _assert_everything_ended(bound, "daily_recheck")
    other.refresh_from_db()
    assert other.legal_representative == other_rep
    assert len(sms_outbox) == 3
    # a second run changes nothing and sends nothing
    with django_capture_on_commit_callbacks(execute=True):
        assert recheck_legal_representatives.apply().get() == 0
    assert len(sms_outbox) == 3
    assert AuditEvent.objects.filter(action="identity.legal_representative_ended").count() == 1


def test_admin_edit_of_the_registry_record_ends_the_old_side(
    bound, client, django_capture_on_commit_callbacks
) -> None:
    # given
    superuser = UserFactory(username="registry-admin", is_staff=True, is_superuser=True)
    client.force_login(superuser)
    record = bound["record"]

    # when: the admin types the new representative's name and ID number
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/identity/legalpersonrecord/{record.pk}/change/",
            {
                "name": record.name,
                "entity_type": "",
                "status": EnterpriseStatus.ACTIVE,
                "legal_rep_name": "孙七",
                "new_legal_rep_id_number": valid_id_number(),
                "registered_on": "",
                "address": "",
                "business_scope": "",
            },
        )

    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    _assert_everything_ended(bound, "admin_registry_edit")
    assert AuditEvent.objects.get(action="identity.legal_representative_ended").actor_id == (
        superuser.pk
    )


def test_admin_cannot_set_the_legal_representative_of_an_enterprise(bound, client) -> None:
    # given
    client.force_login(UserFactory(username="ent-admin", is_staff=True, is_superuser=True))
    enterprise = bound["enterprise"]
    intruder = PersonFactory(name="路人").user

    # when: a crafted POST tries to set another representative
    response = client.post(
        f"/admin/identity/enterprise/{enterprise.pk}/change/",
        {
            "name": enterprise.name,
            "legal_rep_name": "张伟",
            "legal_representative": intruder.pk,
            "status": EnterpriseStatus.ACTIVE,
            "address": "",
            "roles-TOTAL_FORMS": "0",
            "roles-INITIAL_FORMS": "0",
        },
    )

    # then: saved, but the representative still follows the registry
    assert response.status_code == 302, response.content.decode()[:2000]
    enterprise.refresh_from_db()
    assert enterprise.legal_representative == bound["rep"]
    assert AgentAuthorisation.objects.active().count() == 2


def test_admin_recheck_action_follows_the_registry(bound, client) -> None:
    # given: the registry names someone else
    record = bound["record"]
    LegalPersonRecord.objects.filter(pk=record.pk).update(legal_rep_name="孙七")
    client.force_login(UserFactory(username="ent-admin2", is_staff=True, is_superuser=True))
    enterprise = bound["enterprise"]

    # when: the admin runs the re-check action
    response = client.post(
        "/admin/identity/enterprise/",
        {"action": "recheck_registry", "_selected_action": [enterprise.pk]},
    )

    # then
    assert response.status_code == 302
    enterprise.refresh_from_db()
    assert enterprise.legal_representative_id is None
    assert AgentAuthorisation.objects.active().count() == 0


def test_the_nightly_recheck_is_scheduled(settings) -> None:
    from govportal.celery import app

    entry = settings.CELERY_BEAT_SCHEDULE["identity-recheck-legal-representatives"]
    assert entry["task"] == "identity.recheck_legal_representatives"
    assert "identity.recheck_legal_representatives" in app.tasks
