"""The demo bundles: loaded by ``loaddemo`` from the demo catalogue, publishable, and the
新生儿出生 journey passing the 出生医学证明 from the wallet into 出生登记."""

from io import StringIO

import pytest

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from apps.bundles import services
from apps.bundles.constants import ChildState, VersionStatus
from apps.bundles.models import Bundle, BundleChild
from apps.cases import services as case_services
from apps.cases.constants import Decision, MaterialSource
from apps.cases.permissions import CaseActor
from apps.identity.models import User
from tests.cases.factories import PDF, clerk_of, reviewer_of

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


def test_demo_bundles_and_newborn_journey(django_capture_on_commit_callbacks) -> None:
    # given: the demo, loaded twice (idempotent)
    call_command("loaddemo", stdout=StringIO())
    out = StringIO()
    call_command("loaddemo", stdout=out)
    assert "一件事: 新增 0 个，已存在 6 个" in out.getvalue()
    newborn = Bundle.objects.get(code="newborn").current_version
    assert newborn.status == VersionStatus.PUBLISHED
    assert Bundle.objects.get(code="restaurant").current_version.status == "published"
    user = User.objects.get(username="demo-citizen")
    # when: one application
    files = {
        m.key: SimpleUploadedFile(f"{m.key}.pdf", PDF, content_type="application/pdf")
        for m in newborn.materials.all()
    }
    form = {
        "applicant_name": user.display_name,
        "id_number": "11010519491231002X",
        "mobile": "13800138000",
        "agree": "on",
    }
    with django_capture_on_commit_callbacks(execute=True):
        application = services.submit_bundle_application(
            user=user,
            version_id=newborn.pk,
            answers={"registered_birth": "no", "needs_ssc": "yes"},
            form_data=form,
            files=files,
        )
    children = {c.component.key: c for c in application.children.select_related("component")}
    assert set(children) == {
        "birth_certificate",
        "hukou",
        "insurance",
        "ssc",
        "birth_registration",
    }
    cert = BundleChild.objects.select_related("case").get(pk=children["birth_certificate"].pk)
    assert cert.state == ChildState.SUBMITTED
    # when: the hospital's department decides the 出生医学证明
    department = cert.case.department
    with django_capture_on_commit_callbacks(execute=True):
        case_services.accept_case(case_id=cert.case_id, actor=CaseActor.of(clerk_of(department)))
        reviewer = CaseActor.of(reviewer_of(department))
        case_services.start_review(case_id=cert.case_id, actor=reviewer)
        case_services.decide_case(case_id=cert.case_id, actor=reviewer, decision=Decision.APPROVED)
    # then: 出生登记 started with the certificate taken from the wallet, not uploaded
    hukou = BundleChild.objects.select_related("case").get(pk=children["hukou"].pk)
    assert hukou.state == ChildState.SUBMITTED, hukou.last_error
    material = hukou.case.materials.get(slot_key="birth-certificate", is_current=True)
    assert material.source == MaterialSource.LICENCE
    cert.case.refresh_from_db()
    assert material.licence_identifier == cert.case.result_data["licence"]["identifier"]
