"""一窗受理 of a bundle at the comprehensive window, the bundle queue, and the sweeper."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from django.urls import reverse
from django.utils import timezone

from apps.bundles import services
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases import services as case_services
from apps.cases.constants import CaseStatus, Decision
from apps.cases.permissions import CaseActor
from apps.core.exceptions import DomainError
from tests.bundles.factories import FORM, files_for, published_birth_bundle
from tests.cases.factories import citizen, clerk_of, reviewer_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def application(department, django_capture_on_commit_callbacks) -> BundleApplication:
    version = published_birth_bundle(department)
    with django_capture_on_commit_callbacks(execute=True):
        return services.submit_bundle_application(
            user=citizen(),
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
        )


def _case(application: BundleApplication, key: str):
    return (
        BundleChild.objects.select_related("case")
        .get(application=application, component__key=key)
        .case
    )


def test_one_acceptance_covers_children_started_later(
    application, department, django_capture_on_commit_callbacks
) -> None:
    # given
    clerk = clerk_of(department)
    # when: the window accepts the bundle once
    result = services.accept_bundle_application(application_id=application.pk, clerk=clerk)
    # then: the started child is accepted for its department
    assert result == {"accepted": 1, "left": 0}
    cert = _case(application, "cert")
    assert cert.status == CaseStatus.ACCEPTED
    assert cert.accepted_by == clerk
    # when: it is decided, the next child starts and is accepted in the same clerk's name
    reviewer = CaseActor.of(reviewer_of(department))
    with django_capture_on_commit_callbacks(execute=True):
        case_services.start_review(case_id=cert.pk, actor=reviewer)
        case_services.decide_case(
            case_id=cert.pk,
            actor=reviewer,
            decision=Decision.APPROVED,
            result_data={"certificate_no": "Q9"},
        )
    hukou = _case(application, "hukou")
    assert hukou.status == CaseStatus.ACCEPTED
    assert hukou.accepted_by == clerk


def test_clerk_of_another_department_is_refused(application, other_department) -> None:
    with pytest.raises(DomainError) as exc:
        services.accept_bundle_application(
            application_id=application.pk, clerk=clerk_of(other_department)
        )
    assert exc.value.code == "forbidden"
    application.refresh_from_db()
    assert application.accepted_at is None
    assert _case(application, "cert").status == CaseStatus.SUBMITTED


def test_queue_and_screen(client, application, department, django_assert_max_num_queries) -> None:
    client.force_login(clerk_of(department))
    # session, user, memberships, queue (4)
    with django_assert_max_num_queries(6):
        response = client.get(reverse("office-bundles:queue"))
    assert "新生儿出生一件事" in response.content.decode()
    # session, user, memberships, application, edges, children (6)
    with django_assert_max_num_queries(8):
        response = client.get(reverse("office-bundles:application", args=[application.pk]))
    assert "一窗受理（各子事项分别为其部门受理）" in response.content.decode()
    response = client.post(reverse("office-bundles:accept", args=[application.pk]))
    assert response.status_code == 302
    assert _case(application, "cert").status == CaseStatus.ACCEPTED


def test_citizen_cannot_open_the_window_screens(client, application) -> None:
    client.force_login(application.applicant_user)
    assert client.get(reverse("office-bundles:queue")).status_code == 403
    response = client.post(reverse("office-bundles:accept", args=[application.pk]))
    assert response.status_code == 403
    assert _case(application, "cert").status == CaseStatus.SUBMITTED


def test_sweeper_requeues_only_applications_with_unseen_work(
    application, department, monkeypatch
) -> None:
    # given: one application the orchestration has seen, one whose task was lost
    enqueued: list[int] = []
    monkeypatch.setattr("apps.bundles.services.lifecycle.enqueue_advance", enqueued.append)
    old = timezone.now() - timedelta(minutes=10)
    BundleApplication.objects.filter(pk=application.pk).update(updated_at=old)
    lost = published_birth_bundle(department)
    with monkeypatch.context():
        lost_application = services.submit_bundle_application(
            user=citizen("李四"),
            version_id=lost.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(lost),
        )
    BundleApplication.objects.filter(pk=lost_application.pk).update(submitted_at=old)
    enqueued.clear()
    # when
    count = services.sweep_bundle_applications()
    # then
    assert count == 1
    assert enqueued == [lost_application.pk]
    # and a decision newer than the last pass is picked up too; the lost one, enqueued a
    # moment ago, is not sent again before the stale period has passed
    BundleChild.objects.filter(application=application, component__key="cert").update(
        decided_at=timezone.now()
    )
    enqueued.clear()
    assert services.sweep_bundle_applications() == 1
    assert enqueued == [application.pk]
    BundleApplication.objects.filter(pk=lost_application.pk).update(requeued_at=old)
    enqueued.clear()
    assert services.sweep_bundle_applications() == 1
    assert enqueued == [lost_application.pk]


def test_a_sweep_repeated_while_nothing_is_processed_enqueues_each_application_once(
    department, broker
) -> None:
    # given: three applications whose orchestration task was lost (no pass ever ran), and no
    # worker consuming the real Redis queue
    version = published_birth_bundle(department)
    applications = [
        services.submit_bundle_application(
            user=citizen(name),
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
        )
        for name in ("赵一", "钱二", "孙三")
    ]
    ids = sorted(a.pk for a in applications)
    old = timezone.now() - timedelta(minutes=10)
    BundleApplication.objects.filter(pk__in=ids).update(submitted_at=old, updated_at=old)
    assert broker.llen("celery") == 0

    def published() -> list[int]:
        messages = [json.loads(m) for m in broker.lrange("celery", 0, -1)]
        assert {m["headers"]["task"] for m in messages} <= {"bundles.advance"}
        return sorted(int(m["headers"]["argsrepr"].strip("(,)")) for m in messages)

    # when: the sweeper runs twice (the worker is behind: nothing was processed in between)
    first = services.sweep_bundle_applications()
    second = services.sweep_bundle_applications()
    # then: each application's task was published once
    assert (first, second) == (3, 0)
    assert published() == ids
    # and once the stale period has passed with still nothing processed (the tasks were lost
    # with the worker), the next sweep sends each again, once
    BundleApplication.objects.filter(pk__in=ids).update(requeued_at=old)
    assert services.sweep_bundle_applications() == 3
    assert services.sweep_bundle_applications() == 0
    assert published() == sorted(ids * 2)
