"""一窗受理 for people without a portal account (issue 16 §3): the clerk checks the ID card
against the population registry, the case is created for a ``WalkInPerson``, notices go by SMS
to the phone the clerk recorded, and the person claims the case by verifying the same ID number
on an account."""

from __future__ import annotations

import pytest

from django.db import connection
from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.cases import selectors, services
from apps.cases.constants import ApplicantKind, CaseStatus
from apps.cases.models import Case, CaseEvent
from apps.core.exceptions import DomainError
from apps.identity.models import Enterprise, WalkInPerson
from apps.identity.services import create_person_account, identify_at_window, verify_real_name
from tests.cases.factories import FORM, clerk_of, item_version
from tests.identity.factories import (
    EnterpriseFactory,
    LegalPersonRecordFactory,
    PersonFactory,
    PopulationRecordFactory,
    valid_id_number,
    verified_user,
)

pytestmark = pytest.mark.django_db

PHONE = "13912345678"


@pytest.fixture
def setup(department):
    id_number = valid_id_number()
    PopulationRecordFactory(name="郑秀英", id_number=id_number)
    return {
        "version": item_version(department),
        "clerk": clerk_of(department),
        "id_number": id_number,
    }


def _walk_in_case(setup, **form) -> Case:
    found = identify_at_window(
        clerk=setup["clerk"], name="郑秀英", id_number=setup["id_number"], phone=PHONE
    )
    return services.create_window_case(
        clerk=setup["clerk"],
        version=setup["version"],
        applicant_user=None,
        walk_in_person=found.walk_in_person,
        form_data={**FORM, "applicant_name": "郑秀英", **form},
        received_keys=[m.key for m in setup["version"].materials.all()],
    )


@pytest.mark.parametrize(
    ("_case", "name", "code"),
    [
        ("name_does_not_match", "郑秀兰", "registry_mismatch"),
        ("no_name", "", "name_required"),
    ],
)
def test_identify_refuses_when_id_and_name_do_not_match_the_registry(
    setup, _case, name, code
) -> None:
    # when
    with pytest.raises(DomainError) as refused:
        identify_at_window(
            clerk=setup["clerk"], name=name, id_number=setup["id_number"], phone=PHONE
        )

    # then: refused, nothing recorded
    assert refused.value.code == code
    assert WalkInPerson.objects.count() == 0
    assert not AuditEvent.objects.filter(action="identity.walk_in_identified").exists()


def test_identify_refuses_a_number_not_in_the_registry(setup) -> None:
    with pytest.raises(DomainError) as refused:
        identify_at_window(
            clerk=setup["clerk"], name="郑秀英", id_number=valid_id_number(), phone=PHONE
        )
    assert refused.value.code == "registry_mismatch"
    assert WalkInPerson.objects.count() == 0


def test_identify_without_an_account_needs_a_contact_phone(setup) -> None:
    with pytest.raises(DomainError) as refused:
        identify_at_window(clerk=setup["clerk"], name="郑秀英", id_number=setup["id_number"])
    assert refused.value.code == "phone_required"
    assert WalkInPerson.objects.count() == 0


def test_only_window_clerks_identify(setup) -> None:
    with pytest.raises(DomainError) as refused:
        identify_at_window(
            clerk=verified_user("路人"), name="郑秀英", id_number=setup["id_number"], phone=PHONE
        )
    assert refused.value.code == "not_clerk"


def test_identify_uses_the_verified_account_when_there_is_one(setup) -> None:
    # given: an L2 account with this number
    user = verified_user("王五")
    number = user.person.id_number

    # when
    found = identify_at_window(clerk=setup["clerk"], name="王五", id_number=number)

    # then: no walk-in record, no phone needed
    assert found.user == user
    assert found.walk_in_person is None
    assert WalkInPerson.objects.count() == 0


def test_walk_in_case_is_created_without_an_account_and_told_by_sms(
    setup, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # when
    with django_capture_on_commit_callbacks(execute=True):
        case = _walk_in_case(setup)

    # then: accepted, for the walk-in person, with no account behind it
    case.refresh_from_db()
    walk_in = WalkInPerson.objects.get()
    assert case.status == CaseStatus.ACCEPTED
    assert case.walk_in_person == walk_in
    assert case.applicant_user_id is None
    assert case.acting_user_id is None
    assert case.applicant_kind == ApplicantKind.PERSON
    assert case.applicant_name == "郑秀英"
    assert walk_in.masked_phone == "139****5678"
    # PII encrypted at rest, found through the blind index only
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id_number, phone FROM {WalkInPerson._meta.db_table}")
        raw = cursor.fetchone()
    assert all(value.startswith("fernet:") for value in raw)
    assert setup["id_number"] not in raw
    # the acceptance SMS went to the recorded phone, once
    assert [m.to for m in sms_outbox] == [PHONE]
    assert case.number in sms_outbox[0].text
    assert "已受理" in sms_outbox[0].text
    assert AuditEvent.objects.filter(action="identity.walk_in_identified").count() == 1
    assert AuditEvent.objects.filter(action="cases.accept", object_id=str(case.pk)).count() == 1


def test_walk_in_case_is_nobodys_online_until_claimed(setup) -> None:
    # given
    case = _walk_in_case(setup)
    stranger = verified_user("李四")

    # then: no account sees it in 我的办件 or on its page
    assert list(selectors.list_cases_for_applicant(stranger)) == []
    with pytest.raises(Exception) as denied:
        selectors.get_case_for_applicant(user=stranger, case_id=case.pk)
    assert denied.type.__name__ == "Http404"


def test_claim_by_verifying_the_same_id_number(setup, sms_outbox) -> None:
    # given: the walk-in's case; later they register (L1) with their own phone
    case = _walk_in_case(setup)
    user = create_person_account(username="zhengxy", password="pw-x-12345", phone="13700001111")

    # when: real-name verification with the same name and number
    verify_real_name(user=user, name="郑秀英", id_number=setup["id_number"])

    # then: the case is theirs, with a public timeline entry, audited
    case.refresh_from_db()
    walk_in = WalkInPerson.objects.get()
    assert walk_in.claimed_by == user
    assert case.applicant_user == user
    assert case.acting_user == user
    assert list(selectors.list_cases_for_applicant(user)) == [case]
    event = CaseEvent.objects.get(case=case, action="claimed")
    assert event.is_public
    assert AuditEvent.objects.filter(action="identity.walk_in_claimed").count() == 1
    assert AuditEvent.objects.filter(action="cases.claimed", object_id=str(case.pk)).count() == 1
    claimed = AuditEvent.objects.get(action="identity.walk_in_claimed")
    assert claimed.data["moved"] == {"cases": 1}


def test_a_different_id_number_claims_nothing(setup) -> None:
    # given
    case = _walk_in_case(setup)
    other = PersonFactory(name="郑秀英", phone="13700002222").user
    other_number = valid_id_number()
    PopulationRecordFactory(name="郑秀英", id_number=other_number)

    # when: a namesake verifies their own number
    verify_real_name(user=other, name="郑秀英", id_number=other_number)

    # then
    case.refresh_from_db()
    assert case.applicant_user_id is None
    assert WalkInPerson.objects.get().claimed_by_id is None
    assert list(selectors.list_cases_for_applicant(other)) == []
    assert not AuditEvent.objects.filter(action="identity.walk_in_claimed").exists()


def test_no_double_claim(setup) -> None:
    # given: claimed once
    case = _walk_in_case(setup)
    user = PersonFactory(name="", phone="13700003333").user
    verify_real_name(user=user, name="郑秀英", id_number=setup["id_number"])
    second = PersonFactory(name="", phone="13700004444").user

    # when: the same account verifies again, and another account tries the same number
    verify_real_name(user=user, name="郑秀英", id_number=setup["id_number"])
    with pytest.raises(DomainError) as refused:
        verify_real_name(user=second, name="郑秀英", id_number=setup["id_number"])

    # then: one claim, one timeline entry, the case stays with the first account
    assert refused.value.code == "id_taken"
    case.refresh_from_db()
    assert case.applicant_user == user
    assert CaseEvent.objects.filter(case=case, action="claimed").count() == 1
    assert AuditEvent.objects.filter(action="identity.walk_in_claimed").count() == 1


def test_no_sms_to_the_walk_in_phone_after_the_claim(
    setup, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: claimed
    case = _walk_in_case(setup)
    user = PersonFactory(name="", phone="13700005555").user
    verify_real_name(user=user, name="郑秀英", id_number=setup["id_number"])
    sms_outbox.clear()

    # when: the department decides
    from apps.cases.permissions import CaseActor
    from tests.cases.factories import reviewer_of

    reviewer = reviewer_of(case.department)
    with django_capture_on_commit_callbacks(execute=True):
        services.start_review(case_id=case.pk, actor=CaseActor.of(reviewer))
        services.decide_case(
            case_id=case.pk, actor=CaseActor.of(reviewer), decision="approved", reason="符合"
        )

    # then: nothing to the old walk-in phone (the account's notices take over)
    assert [m.to for m in sms_outbox if m.to == PHONE] == []


# --- an enterprise's walk-in agent -------------------------------------------------------------


def test_enterprise_agent_needs_the_paper_letter(setup) -> None:
    # given: an enterprise in the 法人库 nobody has bound online
    record = LegalPersonRecordFactory(legal_rep_name="陈静")

    # when: its agent (not the legal representative) comes without a checked letter
    with pytest.raises(DomainError) as refused:
        identify_at_window(
            clerk=setup["clerk"],
            name="郑秀英",
            id_number=setup["id_number"],
            phone=PHONE,
            uscc=record.uscc,
        )

    # then
    assert refused.value.code == "authorisation_required"
    assert Enterprise.objects.count() == 0
    assert WalkInPerson.objects.count() == 0


def test_enterprise_agent_with_the_paper_letter(setup) -> None:
    # given
    record = LegalPersonRecordFactory(legal_rep_name="陈静")

    # when
    found = identify_at_window(
        clerk=setup["clerk"],
        name="郑秀英",
        id_number=setup["id_number"],
        phone=PHONE,
        uscc=record.uscc,
        paper_authorisation=True,
    )
    case = services.create_window_case(
        clerk=setup["clerk"],
        version=setup["version"],
        applicant_user=None,
        enterprise=found.enterprise,
        walk_in_person=found.walk_in_person,
        window_capacity=found.capacity,
        form_data=FORM,
        received_keys=[m.key for m in setup["version"].materials.all()],
    )

    # then: the enterprise (created from the registry) applies through the walk-in agent
    assert found.capacity == "paper_agent"
    assert case.enterprise.uscc == record.uscc
    assert case.enterprise.legal_representative_id is None
    assert case.applicant_kind == ApplicantKind.AGENT
    assert case.walk_in_person == found.walk_in_person
    assert case.acting_user_id is None
    assert CaseEvent.objects.get(case=case, action="draft_created").data["capacity"] == (
        "paper_agent"
    )


def test_registry_legal_rep_needs_no_letter(setup) -> None:
    # given: the 法人库 names the walk-in as legal representative
    record = LegalPersonRecordFactory(
        legal_rep_name="郑秀英", legal_rep_id_number=setup["id_number"]
    )

    # when
    found = identify_at_window(
        clerk=setup["clerk"],
        name="郑秀英",
        id_number=setup["id_number"],
        phone=PHONE,
        uscc=record.uscc,
    )

    # then
    assert found.capacity == "legal_rep"
    assert found.enterprise.uscc == record.uscc


def test_walk_in_agent_cannot_act_for_an_enterprise_without_basis(setup) -> None:
    # given: the session says legal_rep but the registry names someone else (tampered)
    record = LegalPersonRecordFactory(legal_rep_name="陈静")
    enterprise = EnterpriseFactory(
        uscc=record.uscc, name=record.name, legal_rep_name="陈静", legal_representative=None
    )
    walk_in = identify_at_window(
        clerk=setup["clerk"], name="郑秀英", id_number=setup["id_number"], phone=PHONE
    ).walk_in_person

    # when
    with pytest.raises(DomainError) as refused:
        services.create_window_case(
            clerk=setup["clerk"],
            version=setup["version"],
            applicant_user=None,
            enterprise=enterprise,
            walk_in_person=walk_in,
            window_capacity="legal_rep",
            form_data=FORM,
        )

    # then
    assert refused.value.code == "authorisation_required"
    assert Case.objects.count() == 0


def test_walk_in_agent_claims_as_the_acting_person_only(setup) -> None:
    # given: an enterprise's case brought by a walk-in agent on a paper letter
    record = LegalPersonRecordFactory(legal_rep_name="陈静")
    found = identify_at_window(
        clerk=setup["clerk"],
        name="郑秀英",
        id_number=setup["id_number"],
        phone=PHONE,
        uscc=record.uscc,
        paper_authorisation=True,
    )
    case = services.create_window_case(
        clerk=setup["clerk"],
        version=setup["version"],
        applicant_user=None,
        enterprise=found.enterprise,
        walk_in_person=found.walk_in_person,
        window_capacity=found.capacity,
        form_data=FORM,
        received_keys=[m.key for m in setup["version"].materials.all()],
    )
    agent = PersonFactory(name="", phone="13700006666").user

    # when: the agent verifies the same number on an account
    verify_real_name(user=agent, name="郑秀英", id_number=setup["id_number"])

    # then: they become the acting person; the enterprise stays the applicant
    case.refresh_from_db()
    assert case.acting_user == agent
    assert case.applicant_user_id is None
    assert case.enterprise == found.enterprise
    assert list(selectors.list_cases_for_applicant(agent)) == [case]


def test_walk_in_sms_is_sent_once_per_event(setup, sms_outbox) -> None:
    # given: the acceptance event of a walk-in case
    case = _walk_in_case(setup)
    event = CaseEvent.objects.get(case=case, action="accept")
    sms_outbox.clear()

    # when: the notice task runs twice (a retry)
    first = services.notify_walk_in_by_sms(event)
    second = services.notify_walk_in_by_sms(event)

    # then
    assert (first, second) == (True, False)
    assert [m.to for m in sms_outbox] == [PHONE]


# --- pages ---------------------------------------------------------------------------------------


def test_intake_page_serves_a_walk_in_and_the_case_screen_masks_them(
    setup, django_assert_max_num_queries
) -> None:
    # given
    client = Client()
    client.force_login(setup["clerk"])
    url = reverse("office-cases:intake")
    code = setup["version"].implementation_code

    # when: identify by ID card with a phone, then accept
    identified = client.post(
        url,
        {"step": "identify", "id_number": setup["id_number"], "name": "郑秀英", "phone": PHONE},
    )
    # session, user, memberships x2, walk-in, enterprise-less applicant, items, versions
    with django_assert_max_num_queries(12):
        page = client.get(url, {"item": code}).content.decode()
    accepted = client.post(
        url,
        {
            "step": "accept",
            "item": code,
            "received": ["id-card", "application"],
            **FORM,
            "applicant_name": "郑秀英",
            "agree": "on",
        },
    )

    # then
    assert identified.status_code == 302
    assert "郑*英" in page
    assert "139****5678" in page
    case = Case.objects.get()
    assert accepted["Location"] == reverse("office-cases:case", args=[case.pk])
    assert case.walk_in_person.name == "郑秀英"
    # session, user, memberships, case (+walk-in), events, materials, notices, pauses, ...
    with django_assert_max_num_queries(20):
        screen = client.get(accepted["Location"]).content.decode()
    assert 'data-testid="walk-in-person"' in screen
    assert "139****5678" in screen
    assert setup["id_number"] not in screen
    assert PHONE not in screen


def test_apply_page_fields_follow_the_applicant(department, django_assert_max_num_queries) -> None:
    # given: an item with the demo catalogue's per-kind form; a legal representative
    from apps.catalog.demo import APPLICATION_SCHEMA
    from tests.identity.factories import EnterpriseFactory

    version = item_version(department, form_schema=APPLICATION_SCHEMA)
    enterprise = EnterpriseFactory()
    client = Client()
    client.force_login(enterprise.legal_representative)
    url = reverse("cases:apply", args=[version.implementation_code])

    # when
    # session, user, person, item, version, enterprises (acting), capacity
    with django_assert_max_num_queries(12):
        as_person = client.get(url).content.decode()
    as_unit = client.get(url, {"enterprise": enterprise.pk}).content.decode()

    # then: a person is not asked for the unit's name and promises as 本人, the unit as 本单位
    assert "单位名称" not in as_person
    assert "统一社会信用代码" not in as_person
    assert "本人承诺所填信息及所交材料真实有效" in as_person
    assert "本单位承诺" not in as_person
    assert "单位名称：" in as_unit
    assert enterprise.uscc in as_unit
    assert "本单位承诺所填信息及所交材料真实有效" in as_unit
    assert "本人承诺" not in as_unit
    assert 'aria-required="true"' in as_person
    assert "PDF" in as_person


def test_enterprise_draft_cannot_be_submitted_with_a_persons_form(department) -> None:
    # given: the representative saves a draft for the enterprise with only personal fields
    from apps.cases.permissions import CaseActor
    from apps.catalog.demo import APPLICATION_SCHEMA
    from tests.identity.factories import EnterpriseFactory

    version = item_version(department, form_schema=APPLICATION_SCHEMA)
    enterprise = EnterpriseFactory()
    rep = enterprise.legal_representative
    case = services.create_draft(
        user=rep,
        version=version,
        enterprise=enterprise,
        form_data={"applicant_name": "张伟", "mobile": "13800138000", "agree": True},
    )

    # when
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as refused:
        services.submit_case(case_id=case.pk, actor=CaseActor.of(rep))

    # then: the unit's own fields and promise are required server side
    assert case.applicant_kind == ApplicantKind.ENTERPRISE
    assert {"enterprise_name", "uscc", "agree_unit"} <= set(refused.value.message_dict)
    case.refresh_from_db()
    assert case.status == CaseStatus.DRAFT
