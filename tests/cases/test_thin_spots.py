"""Behaviour the issue-5 audit found untested: enterprise refusals, the material-check page,
another department's staff and files, notifications on commit only, and the department API's
suspend / resume / standalone complete."""

from unittest import mock

import pytest

from django.db import transaction
from django.test import Client
from django.urls import reverse

from apps.cases import services
from apps.cases.constants import CaseStatus, Decision, MaterialStatus
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from apps.cases.services._base import _lock
from apps.cases.services.processing import _start_review
from apps.core.exceptions import DomainError
from apps.identity.constants import EnterpriseStatus
from tests.cases.factories import FORM, case_in, citizen, clerk_of, item_version, reviewer_of
from tests.identity.factories import EnterpriseFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def accepted(department):
    return case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )


def test_acting_for_an_enterprise_needs_a_capacity_or_an_authorisation(department) -> None:
    version = item_version(department)
    enterprise = EnterpriseFactory()
    stranger = citizen("王五")
    with pytest.raises(DomainError) as refused:
        services.create_draft(user=stranger, version=version, enterprise=enterprise)
    assert refused.value.code == "no_authorisation"
    # the legal representative may, without an authorisation
    case = services.create_draft(
        user=enterprise.legal_representative, version=version, enterprise=enterprise, form_data=FORM
    )
    assert (case.enterprise_id, case.authorisation_id) == (enterprise.pk, None)
    assert Case.objects.count() == 1


def test_an_inactive_enterprise_cannot_apply(department) -> None:
    enterprise = EnterpriseFactory(status=EnterpriseStatus.CANCELLED)
    with pytest.raises(DomainError) as refused:
        services.create_draft(
            user=enterprise.legal_representative,
            version=item_version(department),
            enterprise=enterprise,
        )
    assert refused.value.code == "enterprise_inactive"
    assert not Case.objects.exists()


def test_material_check_page_records_a_defect_with_its_reason(department) -> None:
    clerk = clerk_of(department)
    case = case_in(
        CaseStatus.SUBMITTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk,
        reviewer=reviewer_of(department),
    )
    material = case.materials.first()
    url = reverse("office-cases:material-check", args=[case.pk, material.pk])
    client = logged_in(clerk)
    # a defect without a reason is refused on the page
    page = client.post(url, {"status": MaterialStatus.DEFECTIVE, "reason": ""}, follow=True)
    assert "请说明材料的缺陷" in page.content.decode()
    material.refresh_from_db()
    assert material.status == MaterialStatus.PENDING
    # with the reason it is recorded, on the timeline too
    client.post(url, {"status": MaterialStatus.DEFECTIVE, "reason": "复印件不清晰"})
    material.refresh_from_db()
    assert (material.status, material.defect_reason) == (MaterialStatus.DEFECTIVE, "复印件不清晰")
    assert case.events.filter(action="material_checked").count() == 1


def test_staff_of_another_department_cannot_download_a_file(accepted, other_department) -> None:
    material = accepted.materials.first()
    url = reverse("cases:material", args=[material.pk])
    assert logged_in(clerk_of(other_department)).get(url).status_code == 404
    assert logged_in(reviewer_of(other_department)).get(url).status_code == 404
    assert logged_in(reviewer_of(accepted.department)).get(url).status_code == 200


def _start_review_then_fail(case_id: int, actor: CaseActor) -> None:
    with transaction.atomic():
        _start_review(_lock(case_id), actor)
        raise RuntimeError("the caller fails after the transition")


def test_notifications_are_scheduled_on_commit_and_never_after_a_rollback(
    accepted, django_capture_on_commit_callbacks
) -> None:
    reviewer = CaseActor.of(reviewer_of(accepted.department))
    with mock.patch("apps.cases.services._base.enqueue") as enqueue:
        # a refused action schedules nothing
        with django_capture_on_commit_callbacks() as refused, pytest.raises(DomainError):
            services.decide_case(case_id=accepted.pk, actor=reviewer, decision=Decision.APPROVED)
        # a transition whose caller's transaction rolls back schedules nothing either
        with django_capture_on_commit_callbacks() as rolled_back, pytest.raises(RuntimeError):
            _start_review_then_fail(accepted.pk, reviewer)
        assert (refused, rolled_back) == ([], [])
        assert Case.objects.get(pk=accepted.pk).status == CaseStatus.ACCEPTED
        # a committed transition schedules one notification, for its event, at commit
        with django_capture_on_commit_callbacks(execute=True) as committed:
            services.start_review(case_id=accepted.pk, actor=reviewer)
            enqueue.assert_not_called()
    event = Case.objects.get(pk=accepted.pk).events.get(action="start_review")
    assert len(committed) == 1
    enqueue.assert_called_once_with("cases.notify_case_event", event.pk)


def test_department_api_suspend_resume_and_standalone_complete(accepted, dept_client) -> None:
    pk = accepted.pk
    review = dept_client.post(reverse("api:cases-review", args=[pk]), {}, format="json")
    assert review.status_code == 200
    suspended = dept_client.post(
        reverse("api:cases-suspend", args=[pk]),
        {"kind": "expert_review", "reason": "组织专家评审"},
        format="json",
    )
    assert suspended.status_code == 200
    assert suspended.json()["status"] == "suspended"
    resumed = dept_client.post(
        reverse("api:cases-resume", args=[pk]), {"result": "评审通过"}, format="json"
    )
    assert resumed.status_code == 200
    assert resumed.json()["status"] == "in_review"
    decided = dept_client.post(
        reverse("api:cases-decide", args=[pk]), {"decision": "approved"}, format="json"
    )
    assert decided.json()["status"] == "decided"
    completed = dept_client.post(reverse("api:cases-complete", args=[pk]), {}, format="json")
    assert completed.status_code == 200
    assert completed.json()["status"] == "completed"
    assert list(Case.objects.get(pk=pk).events.values_list("action", flat=True))[-5:] == [
        "start_review",
        "suspend",
        "resume",
        "decide",
        "complete",
    ]
