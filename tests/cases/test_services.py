"""Case services: each transition writes the row, a CaseEvent and an audit event, or nothing."""

from datetime import date, datetime

import pytest
import time_machine

from django.core.exceptions import ValidationError
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases import services
from apps.cases.constants import CaseAction, CaseStatus, DayUnit, Decision, MaterialStatus
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.models import Case, CaseEvent, SupplementNotice, ToleranceCommitment
from apps.cases.permissions import CaseActor
from apps.core.exceptions import DomainError
from tests.cases.factories import (
    FORM,
    case_in,
    citizen,
    clerk_of,
    draft,
    item_version,
    pdf,
    reviewer_of,
)
from tests.identity.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db

TZ = timezone.get_default_timezone()


def at(y, m, d, hh=10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TZ)


@pytest.fixture
def version(department):
    return item_version(department)


@pytest.fixture
def applicant():
    return citizen()


@pytest.fixture
def reviewer(department):
    return reviewer_of(department)


def audit_actions(case: Case) -> list[str]:
    return list(
        AuditEvent.objects.filter(object_type="cases.case", object_id=str(case.pk))
        .order_by("seq")
        .values_list("action", flat=True)
    )


def test_submit_allocates_number_and_records_event_and_audit(version, applicant) -> None:
    # given a complete draft
    case = draft(version, applicant)
    # when the applicant submits on 2026-09-29
    with time_machine.travel(at(2026, 9, 29), tick=False):
        services.submit_case(case_id=case.pk, actor=CaseActor.of(applicant))
    # then the case is numbered 实施编码 + date + 0001 and the Art. 32 window is set
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    assert case.number == f"{version.implementation_code}202609290001"
    assert timezone.localtime(case.supplement_notice_due).date() == date(2026, 10, 12)
    event = case.events.get(action=CaseAction.SUBMIT)
    assert (event.from_status, event.to_status) == (CaseStatus.DRAFT, CaseStatus.SUBMITTED)
    assert audit_actions(case)[-1] == "cases.submit"


def test_submit_refuses_missing_required_material(version, applicant) -> None:
    case = draft(version, applicant, with_materials=False)
    with pytest.raises(DomainError) as excinfo:
        services.submit_case(case_id=case.pk, actor=CaseActor.of(applicant))
    assert excinfo.value.code == "materials_missing"
    case.refresh_from_db()
    assert (case.status, case.number) == (CaseStatus.DRAFT, None)
    assert not case.events.filter(action=CaseAction.SUBMIT).exists()


def test_submit_validates_the_form(version, applicant) -> None:
    case = draft(version, applicant)
    services.save_draft(case_id=case.pk, user=applicant, form_data={**FORM, "mobile": "123"})
    with pytest.raises(ValidationError) as excinfo:
        services.submit_case(case_id=case.pk, actor=CaseActor.of(applicant))
    assert "mobile" in excinfo.value.message_dict
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DRAFT


def test_draft_refused_below_minimum_assurance_level(department) -> None:
    version = item_version(department, min_assurance_level=3)
    user = PersonFactory().user  # L1
    with pytest.raises(DomainError) as excinfo:
        services.create_draft(user=user, version=version)
    assert excinfo.value.code == "assurance_too_low"
    assert Case.objects.count() == 0


def test_accept_sets_deadline_in_working_days(version, applicant, clerk, reviewer) -> None:
    case = case_in(
        CaseStatus.SUBMITTED, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    # when accepted on Wed 2026-09-30 (promised 5 working days)
    with time_machine.travel(at(2026, 9, 30), tick=False):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    case.refresh_from_db()
    # then DOMAIN.md's worked example: end of 2026-10-13
    assert case.status == CaseStatus.ACCEPTED
    assert timezone.localtime(case.deadline).date() == date(2026, 10, 13)
    assert case.promised_days == 5
    assert case.accepted_by == clerk
    assert set(case.materials.values_list("status", flat=True)) == {MaterialStatus.ACCEPTED}


def test_citizen_cannot_accept_own_case(version, applicant, clerk, reviewer) -> None:
    case = case_in(
        CaseStatus.SUBMITTED, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    events_before = case.events.count()
    with pytest.raises(CaseActionForbidden):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(applicant))
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    assert case.events.count() == events_before


def test_clerk_of_another_department_cannot_act(
    version, applicant, clerk, reviewer, other_department
):
    case = case_in(
        CaseStatus.SUBMITTED, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    with pytest.raises(CaseActionForbidden):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk_of(other_department)))


def test_illegal_transition_is_refused_with_clear_message(version, applicant, clerk, reviewer):
    case = case_in(
        CaseStatus.ACCEPTED, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    with pytest.raises(IllegalTransition) as excinfo:
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
    assert excinfo.value.code == "illegal_transition"
    assert "已受理" in excinfo.value.message


def test_supplement_lists_everything_then_resubmission_returns_to_clerk(
    version, applicant, clerk, reviewer
) -> None:
    case = case_in(
        CaseStatus.SUBMITTED, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    notice = services.request_supplement(
        case_id=case.pk,
        actor=CaseActor.of(clerk),
        items=[
            {"key": "application", "reason": "未签字"},
            {"key": "id-card", "reason": "复印件不清晰"},
        ],
        due_days=10,
        due_unit=DayUnit.NATURAL,
    )
    assert [i["key"] for i in notice.items] == ["application", "id-card"]
    assert set(case.materials.values_list("status", flat=True)) == {MaterialStatus.DEFECTIVE}
    # the applicant must replace both before resubmitting
    me = CaseActor.of(applicant)
    services.add_material_upload(case_id=case.pk, actor=me, slot_key="application", upload=pdf())
    with pytest.raises(DomainError) as excinfo:
        services.resubmit_case(case_id=case.pk, actor=me)
    assert excinfo.value.code == "supplement_incomplete"
    services.add_material_upload(case_id=case.pk, actor=me, slot_key="id-card", upload=pdf())
    services.resubmit_case(case_id=case.pk, actor=me)
    case.refresh_from_db()
    assert case.status == CaseStatus.SUPPLEMENTED
    assert SupplementNotice.objects.get(case=case).fulfilled_at is not None
    assert case.materials.filter(is_current=False).count() == 2


def test_second_notice_may_not_add_new_materials(version, applicant, clerk, reviewer) -> None:
    # given a case supplemented after a notice about the application form only
    case = case_in(
        CaseStatus.SUPPLEMENTED,
        version=version,
        applicant=applicant,
        clerk=clerk,
        reviewer=reviewer,
    )
    # when the clerk now asks for the ID card too
    with pytest.raises(DomainError) as excinfo:
        services.request_supplement(
            case_id=case.pk,
            actor=CaseActor.of(clerk),
            items=[{"key": "id-card", "reason": "遗漏"}],
            due_days=5,
        )
    # then 一次告知 refuses it
    assert excinfo.value.code == "one_time_notice"
    assert SupplementNotice.objects.filter(case=case).count() == 1


def test_notice_after_five_working_days_is_refused(version, applicant, clerk, reviewer) -> None:
    with time_machine.travel(at(2026, 9, 29), tick=False):
        case = case_in(
            CaseStatus.SUBMITTED,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    with time_machine.travel(at(2026, 10, 13), tick=False), pytest.raises(DomainError) as excinfo:
        services.request_supplement(
            case_id=case.pk,
            actor=CaseActor.of(clerk),
            items=[{"key": "application", "reason": "x"}],
            due_days=5,
        )
    assert excinfo.value.code == "supplement_window_passed"


def test_art32_deemed_acceptance_counts_from_receipt(version, applicant, clerk, reviewer) -> None:
    # given received Tue 2026-09-29 and no notice by the end of 10-12
    with time_machine.travel(at(2026, 9, 29), tick=False):
        case = case_in(
            CaseStatus.SUBMITTED,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    # when the beat task runs on 10-12 (still in time) and on 10-13
    with time_machine.travel(at(2026, 10, 12, 23), tick=False):
        assert services.apply_case_deadlines() == {
            "deemed_accepted": 0,
            "supplement_expired": 0,
            "tolerance_lapsed": 0,
        }
    with time_machine.travel(at(2026, 10, 13, 1), tick=False):
        assert services.apply_case_deadlines() == {
            "deemed_accepted": 1,
            "supplement_expired": 0,
            "tolerance_lapsed": 0,
        }
        # and running it again changes nothing
        assert services.apply_case_deadlines() == {
            "deemed_accepted": 0,
            "supplement_expired": 0,
            "tolerance_lapsed": 0,
        }
    case.refresh_from_db()
    # then accepted as of receipt, 5 working days from 09-29: 09-30, 10-08, 10-09, 10-10, 10-12
    assert case.status == CaseStatus.ACCEPTED
    assert case.deemed_accepted
    assert case.accepted_at == case.received_at
    assert timezone.localtime(case.deadline).date() == date(2026, 10, 12)
    assert case.events.get(action=CaseAction.DEEM_ACCEPTED).actor_kind == "system"


def test_supplement_period_expires(version, applicant, clerk, reviewer) -> None:
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = case_in(
            CaseStatus.AWAITING_SUPPLEMENT,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    with time_machine.travel(at(2026, 11, 10), tick=False):
        assert services.apply_case_deadlines()["supplement_expired"] == 1
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUPPLEMENT_EXPIRED


def test_tolerance_acceptance_for_non_key_material(department, applicant, clerk, reviewer) -> None:
    version = item_version(department, allows_tolerance=True)
    case = draft(version, applicant, with_materials=False)
    services.add_material_upload(
        case_id=case.pk, actor=CaseActor.of(applicant), slot_key="id-card", upload=pdf()
    )
    # the clerk submits for the applicant at the window? no: online submission needs all
    # required materials, so use the window flow with the application form missing
    case = services.create_window_case(
        clerk=clerk,
        version=version,
        applicant_user=applicant,
        form_data=FORM,
        received_keys=["id-card"],
        tolerances=[{"key": "application", "commitment": "本人承诺10个工作日内补交"}],
    )
    assert case.status == CaseStatus.ACCEPTED
    commitment = ToleranceCommitment.objects.get(case=case)
    assert commitment.slot_key == "application"


def test_tolerated_material_must_arrive_before_a_grant(
    department, applicant, clerk, reviewer
) -> None:
    # given: a walk-in case accepted with the application form tolerated (容缺)
    version = item_version(department, allows_tolerance=True)
    case = services.create_window_case(
        clerk=clerk,
        version=version,
        applicant_user=applicant,
        form_data=FORM,
        received_keys=["id-card"],
        tolerances=[{"key": "application", "commitment": "本人承诺10个工作日内补交"}],
    )
    dept, me = CaseActor.of(reviewer), CaseActor.of(applicant)
    services.start_review(case_id=case.pk, actor=dept)

    # when: the department tries to grant before the material arrived
    with pytest.raises(DomainError) as refused:
        services.decide_case(case_id=case.pk, actor=dept, decision=Decision.APPROVED)

    # then
    assert refused.value.code == "tolerance_open"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW

    # when: the applicant supplies it online (allowed after acceptance for tolerated slots only)
    with pytest.raises(IllegalTransition):
        services.add_material_upload(case_id=case.pk, actor=me, slot_key="id-card", upload=pdf())
    services.add_material_upload(case_id=case.pk, actor=me, slot_key="application", upload=pdf())
    services.decide_case(case_id=case.pk, actor=dept, decision=Decision.APPROVED)

    # then
    commitment = ToleranceCommitment.objects.get(case=case)
    assert commitment.fulfilled_at is not None
    assert list(case.events.values_list("action", flat=True))[-3:] == [
        "material_added",
        "tolerance_fulfilled",
        "decide",
    ]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DECIDED


def test_key_material_cannot_be_tolerated(department, applicant, clerk) -> None:
    version = item_version(department, allows_tolerance=True)
    with pytest.raises(DomainError) as excinfo:
        services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=applicant,
            form_data=FORM,
            received_keys=["application"],
            tolerances=[{"key": "id-card", "commitment": "承诺"}],
        )
    assert excinfo.value.code == "key_material"
    assert Case.objects.count() == 0


def test_window_flow_instant_item_completes_in_one_step(department, applicant, clerk) -> None:
    version = item_version(department, case_kind="instant")
    case = services.create_window_case(
        clerk=clerk,
        version=version,
        applicant_user=applicant,
        form_data=FORM,
        received_keys=["id-card", "application"],
    )
    assert case.status == CaseStatus.COMPLETED
    assert case.decision == Decision.APPROVED
    assert list(case.events.values_list("action", flat=True)) == [
        "draft_created",
        CaseAction.SUBMIT,
        CaseAction.ACCEPT_INSTANT,
    ]
    assert case.channel == "window"


def test_window_flow_refuses_incomplete_materials_and_writes_nothing(department, applicant, clerk):
    version = item_version(department)
    with pytest.raises(DomainError) as excinfo:
        services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=applicant,
            form_data=FORM,
            received_keys=["id-card"],
        )
    assert excinfo.value.code == "materials_incomplete"
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def test_decision_refusal_needs_reason(version, applicant, clerk, reviewer) -> None:
    case = case_in(
        CaseStatus.IN_REVIEW, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    with pytest.raises(DomainError) as excinfo:
        services.decide_case(
            case_id=case.pk, actor=CaseActor.of(reviewer), decision=Decision.DENIED
        )
    assert excinfo.value.code == "reason_required"


def test_suspend_and_resume_push_the_deadline(version, applicant, clerk, reviewer) -> None:
    dept = CaseActor.of(reviewer)
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = case_in(
            CaseStatus.IN_REVIEW,
            version=version,
            applicant=applicant,
            clerk=clerk,
            reviewer=reviewer,
        )
    # deadline: 5 working days from Mon 11-02 → Mon 11-09
    assert timezone.localtime(case.deadline).date() == date(2026, 11, 9)
    with time_machine.travel(at(2026, 11, 3), tick=False):
        services.suspend_case(case_id=case.pk, actor=dept, kind="expert_review", reason="专家评审")
    with time_machine.travel(at(2026, 11, 6), tick=False):
        services.resume_case(case_id=case.pk, actor=dept, result="评审通过")
    case.refresh_from_db()
    # paused (11-03, 11-06] = 11-04, 11-05, 11-06 → 3 working days → Thu 11-12
    assert case.paused_days == 3
    assert timezone.localtime(case.deadline).date() == date(2026, 11, 12)
    assert case.pauses.get().working_days == 3


def test_withdraw_only_by_applicant(version, applicant, clerk, reviewer) -> None:
    case = case_in(
        CaseStatus.IN_REVIEW, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    with pytest.raises(CaseActionForbidden):
        services.withdraw_case(case_id=case.pk, actor=CaseActor.of(clerk))
    services.withdraw_case(case_id=case.pk, actor=CaseActor.of(applicant), reason="不办了")
    assert Case.objects.get(pk=case.pk).status == CaseStatus.WITHDRAWN


def test_another_citizen_cannot_touch_a_draft(version, applicant) -> None:
    case = draft(version, applicant, with_materials=False)
    stranger = UserFactory()
    with pytest.raises(CaseActionForbidden):
        services.add_material_upload(
            case_id=case.pk, actor=CaseActor.of(stranger), slot_key="id-card", upload=pdf()
        )
    with pytest.raises(CaseActionForbidden):
        services.submit_case(case_id=case.pk, actor=CaseActor.of(stranger))


def test_mark_material_defective_needs_reason(version, applicant, clerk, reviewer) -> None:
    case = case_in(
        CaseStatus.SUBMITTED, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
    )
    material = case.materials.first()
    with pytest.raises(DomainError):
        services.mark_material(
            material_id=material.pk, actor=CaseActor.of(clerk), status=MaterialStatus.DEFECTIVE
        )
    services.mark_material(
        material_id=material.pk,
        actor=CaseActor.of(clerk),
        status=MaterialStatus.DEFECTIVE,
        reason="印章不清",
    )
    material.refresh_from_db()
    assert (material.status, material.defect_reason) == (MaterialStatus.DEFECTIVE, "印章不清")
