"""An e-licence in a real browser (issue 11, Must show): the holder finds the licence in the
wallet and shows it (亮证); a clerk in another browser context opens it at /office/; a
verifier checks the QR and the downloaded PDF on the public page; the department revokes it
and the same QR page says revoked, with the date."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from django.utils import timezone

from apps.licences.constants import LicenceAction
from apps.licences.seed import ensure_seed_catalogue
from apps.licences.services import LicenceActor, change_licence_status
from tests.identity.factories import verified_user
from tests.licences.factories import person_licence

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"


def test_holder_shows_clerk_sees_verifier_checks_then_revoked(
    live_server, page: Page, browser: Browser, login, department, clerk, tmp_path
) -> None:
    # given: the catalogue (a flushing test that ran last may have left it empty) and a
    # citizen with a driving licence in the wallet
    ensure_seed_catalogue()
    holder = verified_user("卫青")
    licence = person_licence(department, holder=holder)
    login(page, live_server, holder.username, PASSWORD, next_path="/licences/")

    # the wallet lists it; the detail page shows it valid
    page.get_by_role("link", name=re.compile("机动车驾驶证")).click()
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

    # when: the department revokes the licence
    change_licence_status(
        licence_id=licence.pk,
        actor=LicenceActor(department=department),
        action=LicenceAction.REVOKE,
        reason="依法吊销",
    )

    # then: the same QR page says revoked, with the date; so does the file
    verifier.goto(verify_url)
    today = timezone.localdate().isoformat()
    expect(verifier.get_by_test_id("verify-message")).to_have_text(f"该证照已吊销（{today}）")
    verifier.get_by_label(re.compile("上传电子证照文件")).set_input_files(str(pdf))
    verifier.get_by_role("button", name="核验文件").click()
    expect(verifier.get_by_test_id("verify-message")).to_have_text(f"该证照已吊销（{today}）")
    verifier.context.close()
