"""What the applicant is told about their case: one notice per public event per
recipient, SMS through the configured backend, preferences respected, retries harmless."""

from __future__ import annotations

import pytest

from django.utils import timezone

from apps.cases import notices, services
from apps.cases.constants import CaseStatus, Decision, PauseKind
from apps.cases.models import CaseEvent
from apps.cases.permissions import CaseActor
from apps.identity.models import AgentAuthorisation
from apps.notifications.models import Notification, NotificationPreference, SmsMessage
from apps.notifications.services import Recipient, set_preferences
from tests.cases.factories import (
    FORM,
    case_in,
    clerk_of,
    draft,
    item_version,
    pdf,
    reviewer_of,
)
from tests.identity.factories import AgentAuthorisationFactory, EnterpriseFactory, verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(department):
    return {
        "applicant": verified_user("张伟", phone="13900001111"),
        "clerk": clerk_of(department),
        "reviewer": reviewer_of(department),
        "version": item_version(department),
    }


def _kinds(user) -> list[str]:
    return list(
        Notification.objects.filter(recipient=user)
        .order_by("created_at", "pk")
        .values_list("kind", flat=True)
    )


def test_every_public_event_tells_the_applicant_once_in_site_and_by_sms_as_defaulted(
    people, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    applicant, version = people["applicant"], people["version"]
    me = CaseActor.of(applicant)
    window, dept = CaseActor.of(people["clerk"]), CaseActor.of(people["reviewer"])

    # when: the whole life of a case, each step committed (tasks run eagerly on commit)
    with django_capture_on_commit_callbacks(execute=True):
        case = draft(version, applicant)
        services.submit_case(case_id=case.pk, actor=me)
        services.request_supplement(
            case_id=case.pk,
            actor=window,
            items=[{"key": "application", "reason": "申请表未签字"}],
            due_days=5,
        )
        services.add_material_upload(
            case_id=case.pk, actor=me, slot_key="application", upload=pdf()
        )
        services.resubmit_case(case_id=case.pk, actor=me)
        services.accept_case(case_id=case.pk, actor=window)
        services.start_review(case_id=case.pk, actor=dept)
        services.suspend_case(
            case_id=case.pk, actor=dept, kind=PauseKind.ON_SITE, reason="现场核查"
        )
        services.resume_case(case_id=case.pk, actor=dept, result="核查通过")
        services.decide_case(case_id=case.pk, actor=dept, decision=Decision.APPROVED)
        services.complete_case(case_id=case.pk, actor=dept)
        services.deliver_case(case_id=case.pk, actor=window)

    # then: one in-site notice per public state change (材料 uploads and 开始审查 say nothing)
    assert _kinds(applicant) == [
        "cases.submitted",
        "cases.supplement_requested",
        "cases.supplement_received",
        "cases.accepted",
        "cases.paused",
        "cases.paused",
        "cases.decided",
        "cases.completed",
        "cases.delivered",
    ]
    # staff hear nothing through the applicant's channel
    assert not Notification.objects.filter(recipient__in=[people["clerk"], people["reviewer"]])
    # SMS for the kinds that default to it: supplement, acceptance, decision
    assert [m.to for m in sms_outbox] == ["13900001111"] * 3
    assert "需要补正材料：" in sms_outbox[0].text
    assert "已受理" in sms_outbox[1].text
    assert "准予许可" in sms_outbox[2].text
    assert all(m.text.startswith("【江西政务服务】") for m in sms_outbox)
    assert set(SmsMessage.objects.values_list("status", flat=True)) == {"sent"}
    decided = Notification.objects.get(recipient=applicant, kind="cases.decided")
    assert decided.url == f"/cases/{case.pk}/notice/decision/"


def test_a_retried_task_tells_nobody_twice(
    people, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: an accepted case, its notice already sent
    with django_capture_on_commit_callbacks(execute=True):
        case = case_in(
            CaseStatus.ACCEPTED,
            version=people["version"],
            applicant=people["applicant"],
            clerk=people["clerk"],
            reviewer=people["reviewer"],
        )
    event = CaseEvent.objects.get(case=case, action="accept")
    assert len(sms_outbox) == 1

    # when: the task runs again (a worker died before acknowledging it), twice
    with django_capture_on_commit_callbacks(execute=True):
        services.notify_case_event(event_id=event.pk)
        services.notify_case_event(event_id=event.pk)

    # then
    assert Notification.objects.filter(key=f"cases.event:{event.pk}").count() == 1
    assert SmsMessage.objects.filter(key=f"cases.event:{event.pk}").count() == 1
    assert len(sms_outbox) == 1


def test_preferences_are_respected_but_a_legal_notice_stays_in_the_message_centre(
    people, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: no SMS for acceptance, SMS for submission, nothing at all for supplements
    applicant = people["applicant"]
    set_preferences(
        user=applicant,
        choices={
            "cases.accepted": (True, False),
            "cases.submitted": (False, True),
            "cases.supplement_requested": (False, False),
        },
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        case_in(
            CaseStatus.AWAITING_SUPPLEMENT,
            version=people["version"],
            applicant=applicant,
            clerk=people["clerk"],
            reviewer=people["reviewer"],
        )

    # then: submission by SMS only; the supplement notice stays in-site (法定告知), no SMS
    assert _kinds(applicant) == ["cases.supplement_requested"]
    assert len(sms_outbox) == 1
    assert "已收件" in sms_outbox[0].text
    assert NotificationPreference.objects.get(
        user=applicant, kind="cases.supplement_requested"
    ).site


def test_enterprise_notices_go_to_the_legal_rep_and_the_acting_agent_while_authorised(
    department, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: an agent applies for the enterprise; another agent of it has nothing to do with it
    enterprise = EnterpriseFactory()
    authorisation = AgentAuthorisationFactory(enterprise=enterprise)
    bystander = AgentAuthorisationFactory(enterprise=enterprise).agent
    version = item_version(department)
    clerk = clerk_of(department)
    case = services.create_draft(
        user=authorisation.agent, version=version, enterprise=enterprise, form_data=FORM
    )
    for slot in version.materials.all():
        services.add_material_upload(
            case_id=case.pk,
            actor=CaseActor.of(authorisation.agent),
            slot_key=slot.key,
            upload=pdf(),
        )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        services.submit_case(case_id=case.pk, actor=CaseActor.of(authorisation.agent))
    AgentAuthorisation.objects.filter(pk=authorisation.pk).update(revoked_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))

    # then: both heard of the submission; once revoked, the agent hears no more
    assert _kinds(enterprise.legal_representative) == ["cases.submitted", "cases.accepted"]
    assert _kinds(authorisation.agent) == ["cases.submitted"]
    assert _kinds(bystander) == []


def test_a_registered_resolver_adds_an_applicant_without_an_account_by_sms_only(
    people, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given: the seam a walk-in applicant's recorded phone plugs into
    def walk_in_phone(case):
        return [Recipient(phone="13700002222")]

    notices.register_recipient_resolver(walk_in_phone)
    try:
        # when
        with django_capture_on_commit_callbacks(execute=True):
            case = case_in(
                CaseStatus.ACCEPTED,
                version=people["version"],
                applicant=people["applicant"],
                clerk=people["clerk"],
                reviewer=people["reviewer"],
            )
    finally:
        notices.unregister_recipient_resolver(walk_in_phone)

    # then: the recorded phone got the acceptance SMS (kinds that default to SMS; no
    # preferences without an account) and no in-site notice
    assert sorted(m.to for m in sms_outbox) == ["13700002222", "13900001111"]
    row = SmsMessage.objects.get(user__isnull=True)
    assert row.recipient_key.startswith("p")
    assert "13700002222" not in row.recipient_key
    assert Notification.objects.filter(kind="cases.accepted").count() == 1
    assert case.status == CaseStatus.ACCEPTED


def test_an_sms_gateway_error_leaves_the_message_pending_for_the_retry(
    people, settings, django_capture_on_commit_callbacks
) -> None:
    # given: a gateway that fails
    settings.SMS_BACKEND = "tests.notifications.test_case_notices.FailingBackend"
    settings.CELERY_TASK_EAGER_PROPAGATES = False

    # when
    with django_capture_on_commit_callbacks(execute=True):
        case_in(
            CaseStatus.ACCEPTED,
            version=people["version"],
            applicant=people["applicant"],
            clerk=people["clerk"],
            reviewer=people["reviewer"],
        )

    # then: still pending (the task retries it), each attempt counted, the error recorded
    row = SmsMessage.objects.get()
    assert row.status == "pending"
    assert row.attempts >= 1
    assert row.last_error == "ConnectionError"


class FailingBackend:
    def send_messages(self, messages) -> int:
        raise ConnectionError("gateway down")
