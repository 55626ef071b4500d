"""即办件 and the decision hook, 容缺受理 refusals and lapsed commitments, 不予受理 legal basis."""

from datetime import datetime

import pytest
import time_machine

from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.cases import services
from apps.cases.constants import CaseStatus
from apps.cases.hooks import decision_handler
from apps.cases.models import Case, CaseEvent, ToleranceCommitment
from apps.cases.permissions import CaseActor
from apps.catalog.licence_types import licence_type_code
from apps.core.exceptions import DomainError
from apps.notifications.models import Notification
from tests.cases.factories import FORM, case_in, citizen, item_version, pdf, reviewer_of

pytestmark = pytest.mark.django_db
TZ = timezone.get_default_timezone()
LICENCE = licence_type_code("营业执照")


def at(y, m, d, hh=10) -> datetime:
    return datetime(y, m, d, hh, tzinfo=TZ)


def test_instant_acceptance_runs_the_decision_hook(department, clerk) -> None:
    # given an instant item (即办件) whose result is an e-licence, and a licences-like handler
    version = item_version(
        department, case_kind="instant", result_type="licence", result_licence_type=LICENCE
    )
    seen = []

    def issue(event):
        seen.append((event.decision, event.issues_licence, event.case.status))
        services.record_result_licence(case=event.case, identifier="1.2.156.3005.2.Y", name="证")

    # when the clerk accepts and completes it in one step at the window
    with decision_handler(issue):
        case = services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=citizen(),
            form_data=FORM,
            received_keys=["id-card", "application"],
        )
    # then the hook ran inside the step and the licence is on the case and its timeline
    case.refresh_from_db()
    assert seen == [("approved", True, CaseStatus.COMPLETED)]
    assert case.result_data["licence"]["identifier"] == "1.2.156.3005.2.Y"
    assert list(case.events.values_list("action", flat=True))[-2:] == [
        "accept_instant",
        "result_licence",
    ]


def test_a_failing_hook_refuses_the_instant_acceptance(department, clerk) -> None:
    version = item_version(department, case_kind="instant")

    def refuse(event):
        raise DomainError("证照库不可用", code="licence_unavailable")

    with decision_handler(refuse), pytest.raises(DomainError):
        services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=citizen(),
            form_data=FORM,
            received_keys=["id-card", "application"],
        )
    assert Case.objects.count() == 0


def test_tolerance_refused_when_the_item_does_not_allow_it(department, clerk) -> None:
    version = item_version(department, allows_tolerance=False)
    with pytest.raises(DomainError) as excinfo:
        services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=citizen(),
            form_data=FORM,
            received_keys=["id-card"],
            tolerances=[{"key": "application", "commitment": "本人承诺补交"}],
        )
    assert excinfo.value.code == "tolerance_not_allowed"
    assert Case.objects.count() == 0


def test_tolerance_refused_without_a_signed_commitment(department, clerk) -> None:
    version = item_version(department, allows_tolerance=True)
    with pytest.raises(DomainError) as excinfo:
        services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=citizen(),
            form_data=FORM,
            received_keys=["id-card"],
            tolerances=[{"key": "application", "commitment": "  "}],
        )
    assert excinfo.value.code == "commitment_required"
    assert Case.objects.count() == 0
    assert ToleranceCommitment.objects.count() == 0


def test_lapsed_commitment_is_recorded_flagged_and_notified_once(
    settings, department, clerk, django_capture_on_commit_callbacks
) -> None:
    settings.CASES_TOLERANCE_DAYS = 3
    applicant = citizen()
    version = item_version(department, allows_tolerance=True)
    # given accepted Mon 11-02 with the application form tolerated for 3 working days (11-05)
    with time_machine.travel(at(2026, 11, 2), tick=False):
        case = services.create_window_case(
            clerk=clerk,
            version=version,
            applicant_user=applicant,
            form_data=FORM,
            received_keys=["id-card"],
            tolerances=[{"key": "application", "commitment": "本人承诺3个工作日内补交"}],
        )
    # when the beat runs on the last day: nothing yet
    with time_machine.travel(at(2026, 11, 5, 23), tick=False):
        assert services.apply_case_deadlines()["tolerance_lapsed"] == 0
    # and the next morning: the commitment lapses, once
    with (
        time_machine.travel(at(2026, 11, 6, 8), tick=False),
        django_capture_on_commit_callbacks(execute=True),
    ):
        assert services.apply_case_deadlines()["tolerance_lapsed"] == 1
        assert services.apply_case_deadlines()["tolerance_lapsed"] == 0
    # then: a public timeline entry with its audit record, the case flagged, people notified
    case.refresh_from_db()
    assert case.tolerance_lapsed
    event = CaseEvent.objects.get(case=case, action="tolerance_lapsed")
    assert event.is_public
    assert event.actor_kind == "system"
    assert "逾期未补齐" in event.note
    assert AuditEvent.objects.filter(action="cases.tolerance_lapsed").count() == 1
    assert ToleranceCommitment.objects.get(case=case).lapsed_at is not None
    recipients = set(
        Notification.objects.filter(kind="cases.tolerance_lapsed").values_list(
            "recipient_id", flat=True
        )
    )
    assert recipients == {applicant.pk, clerk.pk}
    # and the office and citizen screens show the flag
    for user, url in (
        (clerk, reverse("office-cases:case", args=[case.pk])),
        (applicant, reverse("cases:detail", args=[case.pk])),
    ):
        client = Client()
        client.force_login(user)
        assert 'data-testid="tolerance-lapsed"' in client.get(url).content.decode()
    # when the material finally arrives, the flag clears
    with time_machine.travel(at(2026, 11, 9), tick=False):
        services.add_material_upload(
            case_id=case.pk, actor=CaseActor.of(applicant), slot_key="application", upload=pdf()
        )
    assert not Case.objects.get(pk=case.pk).tolerance_lapsed


def test_not_accepted_needs_a_legal_basis(department, clerk) -> None:
    case = case_in(
        CaseStatus.SUBMITTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk,
        reviewer=reviewer_of(department),
    )
    with pytest.raises(DomainError) as excinfo:
        services.reject_case(
            case_id=case.pk, actor=CaseActor.of(clerk), reason="不属于本机关职权", legal_basis=" "
        )
    assert excinfo.value.code == "legal_basis_required"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    # the page refuses it too, with the Chinese message, and offers a required field
    client = Client()
    client.force_login(clerk)
    screen = client.get(reverse("office-cases:case", args=[case.pk])).content.decode()
    assert 'name="legal_basis" required' in screen
    response = client.post(
        reverse("office-cases:action", args=[case.pk, "reject"]),
        {"reason": "不属于本机关职权", "legal_basis": ""},
        follow=True,
    )
    assert "不予受理须写明法律依据" in response.content.decode()
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SUBMITTED
    # with a legal basis it goes through and the printed notice carries it
    client.post(
        reverse("office-cases:action", args=[case.pk, "reject"]),
        {"reason": "不属于本机关职权", "legal_basis": "《行政许可法》第三十二条第一款第（二）项"},
    )
    assert Case.objects.get(pk=case.pk).status == CaseStatus.NOT_ACCEPTED
    notice = client.get(reverse("office-cases:notice", args=[case.pk, "not-accepted"]))
    assert "《行政许可法》第三十二条第一款第（二）项" in notice.content.decode()
    assert case.number in notice.content.decode()


def test_citizen_uses_a_shared_data_source_on_the_apply_page(department) -> None:
    from apps.catalog import services as catalog_services
    from tests.catalog.factories import element_fields, materials, superuser

    # given an item whose ID-card material may come from the population registry (免提交)
    source = "人口库-居民身份证信息"
    actor = superuser()
    item = catalog_services.create_item(
        actor=actor,
        department=department,
        fields=element_fields(),
        materials=materials(shared_sources=[source]),
    )
    version = catalog_services.publish_item(actor=actor, item_id=item.pk)
    applicant = citizen()
    case = services.create_draft(user=applicant, version=version, form_data=FORM)
    client = Client()
    client.force_login(applicant)
    page = client.get(reverse("cases:detail", args=[case.pk])).content.decode()
    assert 'data-testid="shared-source"' in page
    assert f'name="shared_source" value="{source}"' in page
    upload = reverse("cases:upload", args=[case.pk])
    # when a source the item does not list is posted, it is refused with a Chinese message
    refused = client.post(upload, {"slot": "id-card", "shared_source": "法人库"}, follow=True)
    assert "该材料不能以此共享数据代替" in refused.content.decode()
    assert not case.materials.exists()
    # when the listed source is used and the form uploaded, the application can be submitted
    client.post(upload, {"slot": "id-card", "shared_source": source})
    client.post(upload, {"slot": "application", "file": pdf()})
    client.post(reverse("cases:submit", args=[case.pk]))
    case.refresh_from_db()
    assert case.status == CaseStatus.SUBMITTED
    shared = case.materials.get(slot_key="id-card")
    assert (shared.source, shared.shared_source) == ("shared", source)
    assert source in client.get(reverse("cases:detail", args=[case.pk])).content.decode()
