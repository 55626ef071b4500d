"""一窗受理 with materials missing (``services.issue_window_supplement``): the case is received
and its 一次性告知书 issued in one transaction — a refusal or failure in the second step leaves
nothing half-written — and the supplement messages list names in the interface language."""

from __future__ import annotations

import pytest

from django.db import IntegrityError
from django.utils import translation

from apps.audit.models import AuditEvent
from apps.cases import services
from apps.cases.constants import CaseStatus
from apps.cases.models import Case, CaseEvent, CaseMaterial, SupplementNotice
from apps.cases.notices import build_notice
from apps.cases.permissions import CaseActor
from apps.catalog import services as catalog_services
from apps.core.exceptions import DomainError
from tests.cases.factories import FORM, citizen, clerk_of, draft, item_version, pdf
from tests.catalog.factories import element_fields, materials, superuser

pytestmark = pytest.mark.django_db


def _issue(version, clerk, applicant, **overrides):
    arguments = {
        "clerk": clerk,
        "version": version,
        "applicant_user": applicant,
        "acting_user": applicant,
        "form_data": FORM,
        "received_keys": ["id-card"],
        "reasons": {},
        "due_days": 5,
        "note": "请一次带齐",
        **overrides,
    }
    return services.issue_window_supplement(**arguments)


def test_the_case_is_received_and_the_notice_issued_together_with_events_and_audit(
    department, django_capture_on_commit_callbacks
) -> None:
    # given
    version = item_version(department)
    clerk, applicant = clerk_of(department), citizen("王五")

    # when
    with django_capture_on_commit_callbacks() as callbacks:
        notice = _issue(version, clerk, applicant)

    # then
    case = Case.objects.get()
    assert notice.case_id == case.pk
    assert case.status == CaseStatus.AWAITING_SUPPLEMENT
    assert [(i["key"], i["reason"]) for i in notice.items] == [("application", "未提交该材料")]
    assert list(case.events.values_list("action", flat=True)) == [
        "draft_created",
        "submit",
        "request_supplement",
    ]
    audited = AuditEvent.objects.filter(action__startswith="cases.").values_list(
        "action", flat=True
    )
    assert set(audited) >= {"cases.submit", "cases.request_supplement"}
    # the applicant's notices leave after the commit: submission and supplement
    assert len(callbacks) >= 2


def test_a_failure_writing_the_notice_leaves_no_case_no_event_and_no_notification(
    department, monkeypatch, django_capture_on_commit_callbacks
) -> None:
    # given: writing the notice fails after the case was created and submitted
    version = item_version(department)
    clerk, applicant = clerk_of(department), citizen("王五")

    def broken(**kwargs):
        assert Case.objects.filter(status=CaseStatus.SUBMITTED).exists()  # first part done
        raise IntegrityError("disk full")

    monkeypatch.setattr(SupplementNotice.objects, "create", broken)
    audit_before = AuditEvent.objects.count()

    # when
    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(IntegrityError):
        _issue(version, clerk, applicant)

    # then: nothing half-written, nobody told
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0
    assert CaseMaterial.objects.count() == 0
    assert AuditEvent.objects.count() == audit_before
    assert callbacks == []


def test_a_refusal_of_the_second_step_rolls_back_the_received_case(department, monkeypatch) -> None:
    # given: the supplement step refuses (as it would for a notice window already passed)
    version = item_version(department)
    clerk, applicant = clerk_of(department), citizen("王五")
    from apps.cases.services import intake

    def refuse(case, items):
        raise DomainError("已超过收件后五日的补正告知期限", code="supplement_window_passed")

    monkeypatch.setattr(intake, "_clean_supplement_items", refuse)

    # when
    with pytest.raises(DomainError) as refused:
        _issue(version, clerk, applicant)

    # then
    assert refused.value.code == "supplement_window_passed"
    assert Case.objects.count() == 0
    assert CaseEvent.objects.count() == 0


def test_refusals_before_anything_is_written(department) -> None:
    # given
    version = item_version(department)
    clerk, applicant = clerk_of(department), citizen("王五")

    # when / then: nothing missing, and a period out of range
    with pytest.raises(DomainError) as nothing_missing:
        _issue(version, clerk, applicant, received_keys=["id-card", "application"])
    with pytest.raises(DomainError) as bad_due:
        _issue(version, clerk, applicant, due_days=61)
    assert (nothing_missing.value.code, bad_due.value.code) == ("items_required", "invalid_due")
    assert Case.objects.count() == 0


# --- names in the supplement messages, in either language ----------------------------------


def _three_material_version(department):
    actor = superuser()
    three = [*materials(), {**materials()[1], "key": "photo", "name": "照片"}]
    item = catalog_services.create_item(
        actor=actor, department=department, fields=element_fields(), materials=three
    )
    return catalog_services.publish_item(actor=actor, item_id=item.pk)


def _supplemented(version, clerk, applicant, keys):
    case = draft(version, applicant)
    services.submit_case(case_id=case.pk, actor=CaseActor.of(applicant))
    services.request_supplement(
        case_id=case.pk,
        actor=CaseActor.of(clerk),
        items=[{"key": key, "reason": "不清晰"} for key in keys],
        due_days=5,
    )
    return case


@pytest.mark.parametrize(
    ("language", "joined"), [("zh-hans", "居民身份证、申请表"), ("en", "居民身份证, 申请表")]
)
def test_an_incomplete_resubmission_names_the_materials_in_the_interface_language(
    department, language, joined
) -> None:
    # given
    version = item_version(department)
    applicant = citizen("王五")
    case = _supplemented(version, clerk_of(department), applicant, ["id-card", "application"])

    # when
    with translation.override(language), pytest.raises(DomainError) as refused:
        services.resubmit_case(case_id=case.pk, actor=CaseActor.of(applicant))

    # then
    assert refused.value.code == "supplement_incomplete"
    assert joined in refused.value.message
    if language == "en":
        assert refused.value.message.startswith("Supplementary materials not yet supplied")


@pytest.mark.parametrize(
    ("language", "joined"), [("zh-hans", "居民身份证、照片"), ("en", "居民身份证, 照片")]
)
def test_a_second_notice_beyond_the_first_names_the_extra_materials_in_the_interface_language(
    department, language, joined
) -> None:
    # given: the first notice listed only the application form, which was then supplied
    version = _three_material_version(department)
    applicant, clerk = citizen("王五"), clerk_of(department)
    case = _supplemented(version, clerk, applicant, ["application"])
    me = CaseActor.of(applicant)
    services.add_material_upload(case_id=case.pk, actor=me, slot_key="application", upload=pdf())
    services.resubmit_case(case_id=case.pk, actor=me)

    # when: the clerk asks for two materials the first notice did not name
    with translation.override(language), pytest.raises(DomainError) as refused:
        services.request_supplement(
            case_id=case.pk,
            actor=CaseActor.of(clerk),
            items=[{"key": "id-card", "reason": "过期"}, {"key": "photo", "reason": "模糊"}],
            due_days=5,
        )

    # then
    assert refused.value.code == "one_time_notice"
    assert joined in refused.value.message


@pytest.mark.parametrize(
    ("language", "joined"), [("zh-hans", "居民身份证、申请表"), ("en", "居民身份证, 申请表")]
)
def test_the_supplement_notice_to_the_applicant_lists_names_in_the_interface_language(
    department, language, joined
) -> None:
    # given
    version = item_version(department)
    case = _supplemented(version, clerk_of(department), citizen("王五"), ["id-card", "application"])
    event = case.events.get(action="request_supplement")

    # when
    with translation.override(language):
        notice = build_notice(event)

    # then
    assert joined in notice.body
    assert joined in notice.sms
