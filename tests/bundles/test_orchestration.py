"""Submitting a bundle and orchestrating its children through the cases app."""

from __future__ import annotations

from typing import Any

import pytest

from django.core.exceptions import ValidationError

from apps.bundles import services
from apps.bundles.constants import ApplicationStatus, ChildState
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases import services as case_services
from apps.cases.constants import CaseStatus, Decision
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.core.exceptions import DomainError
from tests.bundles.factories import FORM, files_for, published_birth_bundle
from tests.cases.factories import FORM as CASE_FORM
from tests.cases.factories import citizen, clerk_of, reviewer_of

pytestmark = pytest.mark.django_db


def _states(application: BundleApplication) -> dict[str, str]:
    return {
        c.component.key: c.state
        for c in BundleChild.objects.filter(application=application).select_related("component")
    }


def _decide(child: BundleChild, *, decision: str = Decision.APPROVED, **result: Any) -> None:
    department = child.case.department
    window, dept = CaseActor.of(clerk_of(department)), CaseActor.of(reviewer_of(department))
    case_services.accept_case(case_id=child.case_id, actor=window)
    case_services.start_review(case_id=child.case_id, actor=dept)
    case_services.decide_case(
        case_id=child.case_id,
        actor=dept,
        decision=decision,
        reason="" if decision == Decision.APPROVED else "不符合条件",
        result_data=result,
    )


def _child(application: BundleApplication, key: str) -> BundleChild:
    return BundleChild.objects.select_related("case").get(
        application=application, component__key=key
    )


def _submit(version: Any, user: Any, answers: dict[str, str], capture: Any) -> BundleApplication:
    with capture(execute=True):
        return services.submit_bundle_application(
            user=user,
            version_id=version.pk,
            answers=answers,
            form_data=FORM,
            files=files_for(version),
        )


def test_children_start_in_dependency_order_with_outputs_flowing(
    department, django_capture_on_commit_callbacks
) -> None:
    # given
    version = published_birth_bundle(department)
    user = citizen()
    # when: one submission
    application = _submit(version, user, {"needs_ssc": "yes"}, django_capture_on_commit_callbacks)
    # then: only the root started, with its own case number and department
    assert _states(application) == {
        "cert": ChildState.SUBMITTED,
        "hukou": ChildState.WAITING,
        "insurance": ChildState.WAITING,
        "ssc": ChildState.WAITING,
    }
    cert = _child(application, "cert")
    assert cert.case.status == CaseStatus.SUBMITTED
    assert cert.case.number
    assert cert.case.materials.filter(is_current=True).count() == 2
    # when: the birth certificate is decided with its number
    with django_capture_on_commit_callbacks(execute=True):
        _decide(cert, certificate_no="Q360100123")
    # then: 出生登记 started with the number filled in, not typed
    hukou = _child(application, "hukou")
    assert hukou.state == ChildState.SUBMITTED
    assert hukou.case.form_data["birth_certificate_no"] == "Q360100123"
    assert _states(application)["insurance"] == ChildState.WAITING
    # when: 出生登记 decided
    with django_capture_on_commit_callbacks(execute=True):
        _decide(hukou)
    # then: the two parallel children start together
    states = _states(application)
    assert states["insurance"] == states["ssc"] == ChildState.SUBMITTED
    # when: both decided
    with django_capture_on_commit_callbacks(execute=True):
        _decide(_child(application, "insurance"))
        _decide(_child(application, "ssc"))
    # then
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CONCLUDED
    assert Case.objects.filter(bundle_child__application=application).count() == 4


def test_answers_decide_which_children_exist(
    department, django_capture_on_commit_callbacks
) -> None:
    version = published_birth_bundle(department)
    application = _submit(
        version, citizen(), {"needs_ssc": "no"}, django_capture_on_commit_callbacks
    )
    assert set(_states(application)) == {"cert", "hukou", "insurance"}


def test_refusal_blocks_dependants_and_explains(
    department, django_capture_on_commit_callbacks
) -> None:
    # given
    version = published_birth_bundle(department)
    application = _submit(
        version, citizen(), {"needs_ssc": "yes"}, django_capture_on_commit_callbacks
    )
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _decide(_child(application, "cert"), decision=Decision.DENIED)
    # then
    application.refresh_from_db()
    assert _states(application) == {
        "cert": ChildState.DECIDED,
        "hukou": ChildState.BLOCKED,
        "insurance": ChildState.BLOCKED,
        "ssc": ChildState.BLOCKED,
    }
    assert application.status == ApplicationStatus.PARTLY_CONCLUDED
    assert "无法继续办理" in application.status_note


def test_advance_is_idempotent(department, django_capture_on_commit_callbacks) -> None:
    # given
    version = published_birth_bundle(department)
    application = _submit(
        version, citizen(), {"needs_ssc": "yes"}, django_capture_on_commit_callbacks
    )
    # when: the orchestration runs again (a duplicate task, the sweeper)
    for _ in range(3):
        services.advance_bundle_application(application_id=application.pk)
    # then
    assert Case.objects.filter(bundle_child__application=application).count() == 1
    assert _child(application, "cert").attempts == 1


def test_interrupted_start_adopts_its_draft(department, django_capture_on_commit_callbacks) -> None:
    # given: a worker claimed the root and created its draft, then died before recording it
    version = published_birth_bundle(department)
    user = citizen()
    with django_capture_on_commit_callbacks(execute=False):
        application = services.submit_bundle_application(
            user=user,
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
        )
    child = _child(application, "cert")
    services.orchestration._claim(child.pk)
    orphan = case_services.create_draft(
        user=user, version=child.component.item_version, form_data=CASE_FORM
    )
    BundleChild.objects.filter(pk=child.pk).update(lease_until=None)
    # when: the orchestration runs again
    services.advance_bundle_application(application_id=application.pk)
    # then: the orphan is adopted, not duplicated
    child.refresh_from_db()
    assert child.case_id == orphan.pk
    assert child.state == ChildState.SUBMITTED
    assert Case.objects.filter(acting_user=user).count() == 1


def test_pinned_version_survives_republication(
    department, django_capture_on_commit_callbacks
) -> None:
    # given: an application under v1, then v2 published
    version = published_birth_bundle(department)
    application = _submit(
        version, citizen(), {"needs_ssc": "no"}, django_capture_on_commit_callbacks
    )
    from tests.catalog.factories import superuser

    draft = services.new_draft_version(actor=superuser(), bundle_id=version.bundle_id)
    services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
    # when
    with django_capture_on_commit_callbacks(execute=True):
        _decide(_child(application, "cert"), certificate_no="Q1")
    # then: the application still runs on v1's components
    application.refresh_from_db()
    assert application.version_id == version.pk
    assert _child(application, "hukou").component.version_id == version.pk
    assert _child(application, "hukou").state == ChildState.SUBMITTED


@pytest.mark.parametrize(
    ("_case", "answers", "form", "drop", "error"),
    [
        ("unanswered question", {}, FORM, None, DomainError),
        ("bad answer", {"needs_ssc": "maybe"}, FORM, None, DomainError),
        ("bad id number", {"needs_ssc": "no"}, {**FORM, "id_number": "123"}, None, ValidationError),
        ("missing material", {"needs_ssc": "no"}, FORM, "id-card", DomainError),
    ],
)
def test_bad_submission_changes_nothing(
    department, _case: str, answers: dict, form: dict, drop: str | None, error: type
) -> None:
    # given
    version = published_birth_bundle(department)
    files = files_for(version)
    if drop:
        files.pop(drop)
    # when
    with pytest.raises(error):
        services.submit_bundle_application(
            user=citizen(), version_id=version.pk, answers=answers, form_data=form, files=files
        )
    # then
    assert BundleApplication.objects.count() == 0
    assert Case.objects.count() == 0


def test_withdrawal_withdraws_started_children(
    department, django_capture_on_commit_callbacks
) -> None:
    # given
    version = published_birth_bundle(department)
    user = citizen()
    application = _submit(version, user, {"needs_ssc": "no"}, django_capture_on_commit_callbacks)
    # when
    services.withdraw_bundle_application(application_id=application.pk, user=user)
    # then
    application.refresh_from_db()
    assert application.status == ApplicationStatus.WITHDRAWN
    assert _child(application, "cert").case.status == CaseStatus.WITHDRAWN
    assert _states(application)["hukou"] == ChildState.CLOSED
