"""Issuance from the decision hook, and the real licence resolver for material slots (免提交)."""

from dataclasses import replace

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.cases import services as case_services
from apps.cases.constants import CaseStatus, Decision, MaterialSource
from apps.cases.materials import wallet_licences
from apps.cases.permissions import CaseActor
from apps.catalog.licence_types import licence_type_code
from apps.core.exceptions import DomainError
from apps.licences.constants import LicenceAction, LicenceStatus
from apps.licences.identifiers import parse_identifier
from apps.licences.models import Licence, LicenceUse
from apps.licences.services import LicenceActor, change_licence_status
from tests.cases.factories import case_in, citizen, clerk_of, draft, item_version, reviewer_of
from tests.licences.factories import person_licence

pytestmark = pytest.mark.django_db

DRIVING = licence_type_code("机动车驾驶证")
BUSINESS = licence_type_code("营业执照")


def _in_review(department, applicant, **fields):
    reviewer = reviewer_of(department)
    case = case_in(
        CaseStatus.IN_REVIEW,
        version=item_version(department, **fields),
        applicant=applicant,
        clerk=clerk_of(department),
        reviewer=reviewer,
    )
    return case, CaseActor.of(reviewer)


def test_approval_issues_the_licence_in_the_decision_and_records_it_on_the_case(department):
    # given
    applicant = citizen("刘洋")
    case, reviewer = _in_review(
        department, applicant, result_type="licence", result_licence_type=DRIVING
    )

    # when
    case_services.decide_case(
        case_id=case.pk, actor=reviewer, decision=Decision.APPROVED, complete=True
    )

    # then
    licence = Licence.objects.get(case=case)
    case.refresh_from_db()
    assert (licence.holder_user, licence.issuer, licence.status) == (
        applicant,
        department,
        LicenceStatus.VALID,
    )
    assert licence.face_data == {"XM": "刘洋"}
    assert licence.number == case.number
    assert case.result_data["licence"] == {
        "identifier": licence.identifier,
        "name": "机动车驾驶证",
        "valid_until": licence.valid_until.isoformat(),
    }
    assert licence.history.get().actor_user == reviewer.user


def test_refusal_issues_nothing(department):
    case, reviewer = _in_review(
        department, citizen(), result_type="licence", result_licence_type=DRIVING
    )
    case_services.decide_case(
        case_id=case.pk, actor=reviewer, decision=Decision.DENIED, reason="不符合条件"
    )
    assert Licence.objects.count() == 0


def test_holder_of_the_wrong_kind_gets_no_licence_and_the_decision_stands(department):
    # given: an enterprise licence type for a person applicant
    case, reviewer = _in_review(
        department, citizen(), result_type="licence", result_licence_type=BUSINESS
    )

    # when
    case_services.decide_case(case_id=case.pk, actor=reviewer, decision=Decision.APPROVED)

    # then: decided, no licence, and the audit log says why
    case.refresh_from_db()
    assert case.status == CaseStatus.DECIDED
    assert Licence.objects.count() == 0
    assert "licence" not in (case.result_data or {})
    event = AuditEvent.objects.get(action="licences.result_not_issued")
    assert event.data["code"] == "holder_kind_mismatch"


# --- the resolver --------------------------------------------------------------------------


@pytest.fixture
def id_card_case(department):
    applicant = citizen("孙丽")
    return draft(item_version(department), applicant, with_materials=False), applicant


def test_a_wallet_licence_satisfies_the_slot_and_the_use_is_logged(department, id_card_case):
    # given
    case, applicant = id_card_case
    licence = person_licence(
        department,
        holder=applicant,
        name="居民身份证",
        face_data={"XM": "孙丽"},
    )

    # when
    offered = wallet_licences(
        user=applicant, enterprise=None, licence_types=[licence.licence_type.code]
    )
    material = case_services.add_material_licence(
        case_id=case.pk,
        actor=CaseActor.of(applicant),
        slot_key="id-card",
        identifier=offered[0].identifier,
    )

    # then: the case keeps only the identifier; the holder sees the use
    assert (material.source, material.licence_identifier) == (
        MaterialSource.LICENCE,
        licence.identifier,
    )
    assert not material.file
    use = LicenceUse.objects.get(licence=licence)
    assert (use.holder_user, use.is_allowed, use.basis) == (applicant, True, "holder")


@pytest.mark.parametrize("_case", ["someone_elses", "revoked", "unknown"])
def test_the_resolver_refuses_licences_the_applicant_cannot_use(department, id_card_case, _case):
    case, applicant = id_card_case
    owner = citizen("周杰") if _case == "someone_elses" else applicant
    licence = person_licence(department, holder=owner, name="居民身份证", face_data={"XM": "x"})
    identifier = licence.identifier
    if _case == "revoked":
        change_licence_status(
            licence_id=licence.pk,
            actor=LicenceActor.system(),
            action=LicenceAction.REVOKE,
            reason="测试",
        )
    if _case == "unknown":  # well-formed, right type, but no such licence
        identifier = str(replace(parse_identifier(identifier), serial="NOSUCHSERIAL"))
    with pytest.raises(DomainError) as refused:
        case_services.add_material_licence(
            case_id=case.pk,
            actor=CaseActor.of(applicant),
            slot_key="id-card",
            identifier=identifier,
        )
    expected = "licence_not_valid" if _case == "revoked" else "licence_not_held"
    assert refused.value.code == expected
    assert case.materials.count() == 0


def test_materials_step_offers_the_wallet_licence_as_no_upload(client, department, id_card_case):
    # given: the applicant holds an ID card licence
    case, applicant = id_card_case
    licence = person_licence(
        department, holder=applicant, name="居民身份证", face_data={"XM": "孙丽"}
    )
    client.force_login(applicant)

    # when: the materials step, then the one-click choice
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    response = client.post(
        reverse("cases:upload", args=[case.pk]),
        {"slot": "id-card", "licence_identifier": licence.identifier},
    )

    # then
    assert "免提交：使用卡包中的居民身份证" in page
    assert f'value="{licence.identifier}"' in page
    assert response.status_code == 302
    material = case.materials.get(slot_key="id-card")
    assert (material.source, material.licence_identifier) == ("licence", licence.identifier)


def test_approval_for_a_holder_with_a_licence_of_this_issuer_makes_a_new_version(department):
    # given: the applicant already holds a driving licence from this department
    applicant = citizen("何静")
    old = person_licence(department, holder=applicant)
    case, reviewer = _in_review(
        department, applicant, result_type="licence", result_licence_type=DRIVING
    )

    # when
    case_services.decide_case(case_id=case.pk, actor=reviewer, decision=Decision.APPROVED)

    # then: version 002 linked to the old one, which is superseded
    new = Licence.objects.get(case=case)
    old.refresh_from_db()
    assert (new.version, new.predecessor, new.serial) == (2, old, old.serial)
    assert new.face_data["ZJCX"] == "C1"
    assert old.status == LicenceStatus.SUPERSEDED
    case.refresh_from_db()
    assert case.result_data["licence"]["identifier"] == new.identifier
