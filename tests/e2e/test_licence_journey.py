"""An e-licence in a real browser: a citizen's case is approved and the licence lands in the
wallet; the holder shows it (亮证) and a clerk in another browser context opens it at /office/;
a verifier checks the QR and the downloaded PDF on the public page; a later application takes
the licence from the wallet (免提交); the department revokes it over the API and the same QR
page says revoked, with the date."""

from __future__ import annotations

import re

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from django.urls import reverse
from django.utils import timezone

from apps.cases import services as case_services
from apps.cases.constants import CaseStatus, Decision
from apps.cases.permissions import CaseActor
from apps.catalog.licence_types import licence_type_code
from apps.licences.models import Licence
from apps.licences.seed import ensure_seed_catalogue
from tests.cases.factories import case_in, clerk_of, draft, item_version, reviewer_of
from tests.identity.factories import ApiClientFactory, issue_token, verified_user

ID_CARD = licence_type_code("居民身份证")
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"


def test_holder_shows_clerk_sees_verifier_checks_then_revoked(
    live_server, page: Page, browser: Browser, login, department, clerk, tmp_path
) -> None:
    # given: the catalogue (a flushing test that ran last may have left it empty), and a
    # citizen's application for an item whose result is a 居民身份证, in review
    ensure_seed_catalogue()
    holder = verified_user("卫青")
    reviewer = reviewer_of(department)
    case = case_in(
        CaseStatus.IN_REVIEW,
        version=item_version(department, result_type="licence", result_licence_type=ID_CARD),
        applicant=holder,
        clerk=clerk_of(department),
        reviewer=reviewer,
    )
    # when the case is approved, the licence is issued in the decision
    case_services.decide_case(
        case_id=case.pk, actor=CaseActor.of(reviewer), decision=Decision.APPROVED, complete=True
    )
    licence = Licence.objects.get(case=case)
    login(page, live_server, holder.username, PASSWORD, next_path="/licences/")

    # the wallet lists it; the detail page shows it valid
    page.get_by_role("link", name=re.compile("居民身份证")).click()
    expect(page.get_by_test_id("licence-status")).to_have_text("有效")

    # 亮证: a dynamic QR with a code the clerk scans
    page.get_by_test_id("show-licence").click()
    expect(page.get_by_test_id("licence-qr")).to_be_visible()
    shown = page.get_by_test_id("verify-link").get_attribute("href")
    assert shown is not None
    assert licence.identifier not in shown

    # a clerk, in another browser context, opens the shown licence at the office
    office = browser.new_context(locale="zh-CN").new_page()
    login(office, live_server, clerk.username, PASSWORD, next_path="/office/licences/show/")
    office.get_by_label("扫描持证人出示的二维码，或输入亮证码").fill(shown)
    office.get_by_role("button", name="查看证照").click()
    expect(office.get_by_text(licence.identifier)).to_be_visible()
    office.context.close()

    # the holder makes a 验真 QR and downloads the sealed PDF
    page.goto(f"{live_server.url}/licences/{licence.pk}/")
    page.get_by_role("button", name="生成验真码").click()
    verify_url = page.get_by_test_id("verify-link").get_attribute("href")
    page.goto(f"{live_server.url}/licences/{licence.pk}/")
    with page.expect_download() as download:
        page.get_by_role("link", name="下载证照文件（PDF）").click()
    pdf = tmp_path / "licence.pdf"
    download.value.save_as(pdf)
    assert pdf.read_bytes().startswith(b"%PDF-")

    # a verifier without an account: the QR page and the uploaded file both say valid
    verifier = browser.new_context(locale="zh-CN").new_page()
    verifier.goto(verify_url)
    expect(verifier.get_by_test_id("verify-message")).to_have_text("该证照真实有效")
    verifier.get_by_label(re.compile("上传电子证照文件")).set_input_files(str(pdf))
    verifier.get_by_role("button", name="核验文件").click()
    expect(verifier.get_by_test_id("verify-message")).to_have_text("该证照真实有效")

    # a later application takes that licence from the wallet instead of an upload (免提交)
    later = draft(item_version(department), holder, with_materials=False)
    page.goto(f"{live_server.url}{reverse('cases:detail', args=[later.pk])}")
    page.get_by_role("button", name=re.compile("免提交：使用卡包中的居民身份证")).click()
    page.wait_for_load_state()
    material = later.materials.get(slot_key="id-card")
    assert (material.source, material.licence_identifier) == ("licence", licence.identifier)

    # when: the department revokes the licence over the API
    token = issue_token(ApiClientFactory(department=department), "licences:write")
    response = requests.post(
        f"{live_server.url}/api/v1/licences/{licence.identifier}/status/",
        json={"action": "revoke", "reason": "依法吊销"},
        headers={"Authorization": f"Bearer {token.token}", "Idempotency-Key": "journey-1"},
        timeout=30,
    )
    assert response.status_code == 200, response.text

    # then: the same QR page says revoked, with the date; so does the file
    verifier.goto(verify_url)
    today = timezone.localdate().isoformat()
    expect(verifier.get_by_test_id("verify-message")).to_have_text(f"该证照已吊销（{today}）")
    verifier.get_by_label(re.compile("上传电子证照文件")).set_input_files(str(pdf))
    verifier.get_by_role("button", name="核验文件").click()
    expect(verifier.get_by_test_id("verify-message")).to_have_text(f"该证照已吊销（{today}）")
    verifier.context.close()
