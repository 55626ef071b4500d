"""A case from application to decision, in a real browser (issue 5, Must show).

The citizen applies online from the item's guide (the form comes from the item's schema) and
uploads the materials; the clerk asks once for a supplement; the citizen supplies it and
resubmits; the clerk accepts; the department's own system reviews and decides through the API
over HTTP with a client-credentials token from the real token endpoint; the citizen sees the
result on the timeline. Two browser contexts (citizen, clerk), real logins.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.identity.constants import StaffRole
from tests.cases.factories import PDF, item_version
from tests.identity.factories import (
    ApiClientFactory,
    PersonFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)


@pytest.fixture
def calendar_2026(transactional_db) -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    path = tmp_path / "申请表.pdf"
    path.write_bytes(PDF)
    return path


def new_page(browser: Browser) -> Page:
    context = browser.new_context(
        locale="zh-CN", viewport={"width": 1280, "height": 900}, timezone_id="Asia/Shanghai"
    )
    context.set_default_timeout(15_000)
    return context.new_page()


def department_token(live_server, api_client) -> str:
    response = requests.post(
        f"{live_server.url}/o/token/",
        data={"grant_type": "client_credentials", "scope": "cases:read cases:write"},
        auth=(api_client.application.client_id, "test-client-secret"),
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def test_apply_supplement_accept_decide(
    live_server, browser: Browser, page: Page, login, pdf_file: Path, department, calendar_2026
) -> None:
    # given: an item of the department, a verified citizen, a window clerk, the department's
    # own system
    version = item_version(department)
    citizen = PersonFactory(user=UserFactory(username="zhang-san"), name="张三", verified=True).user
    clerk = StaffMembershipFactory(
        department=department, role=StaffRole.CLERK, user=UserFactory(username="clerk-li")
    ).user
    api_client = ApiClientFactory(department=department)

    # when: the citizen applies online from the item's guide
    login(page, live_server, citizen.username, PASSWORD)
    page.goto(f"{live_server.url}/catalog/items/{version.implementation_code}/")
    page.get_by_role("link", name="在线申办").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text(version.name)
    expect(page.get_by_label("申请人姓名")).to_have_value("张三")  # prefilled from the profile
    page.get_by_label("联系电话").fill("13800138000")
    page.get_by_label("申领原因").select_option(label="首次申领")
    page.get_by_label("本人承诺所填信息真实有效").check()
    page.get_by_role("button", name="保存草稿并继续").click()

    # ... uploads both materials and submits
    expect(page.get_by_role("heading", level=1)).to_have_text("办件详情")
    for slot in ("id-card", "application"):
        row = page.locator(f'tr[data-slot="{slot}"]')
        row.locator('input[type="file"]').set_input_files(pdf_file)
        row.get_by_role("button", name="上传").click()
        expect(page.get_by_role("status")).to_contain_text("材料已提交")
    page.get_by_role("button", name="提交申请").click()

    # then
    expect(page.get_by_test_id("case-status")).to_have_text("已申报（收件）")
    number = page.get_by_test_id("case-number").inner_text()
    assert re.fullmatch(rf"{version.implementation_code}\d{{8}}\d{{4}}", number)
    case_url = page.url

    # when: the clerk finds it in the queue and asks once for a supplement
    office = new_page(browser)
    login(office, live_server, clerk.username, PASSWORD, next_path="/office/cases/")
    office.get_by_role("link", name=number).click()
    panel = office.locator('details[data-action="request_supplement"]')
    panel.locator("summary").click()
    panel.get_by_label("申请表", exact=True).check()
    panel.get_by_label("补正内容 申请表").fill("申请表未签字")
    panel.get_by_role("button", name="确认").click()

    # then: the one-time notice lists it and carries the case number
    expect(office.get_by_test_id("case-status")).to_have_text("待补正")
    office.get_by_role("link", name="打印一次性告知书").click()
    expect(office.get_by_test_id("notice-number")).to_have_text(number)
    expect(office.locator(".notice-doc")).to_contain_text("申请表未签字")

    # when: the citizen sees the notice, uploads a signed form and resubmits
    page.goto(case_url)
    expect(page.get_by_role("heading", name="请补正以下材料（一次性告知）")).to_be_visible()
    expect(page.locator(".alert--warning")).to_contain_text("申请表未签字")
    row = page.locator('tr[data-slot="application"]')
    row.locator('input[type="file"]').set_input_files(pdf_file)
    row.get_by_role("button", name="上传").click()
    page.get_by_role("button", name="提交补正").click()

    # then
    expect(page.get_by_test_id("case-status")).to_have_text("已补正待受理")

    # when: the clerk accepts
    office.goto(f"{live_server.url}/office/cases/")
    office.get_by_role("link", name=number).click()
    panel = office.locator('details[data-action="accept"]')
    panel.locator("summary").click()
    panel.get_by_role("button", name="确认").click()

    # then
    expect(office.get_by_test_id("case-status")).to_have_text("已受理")
    case = Case.objects.get(number=number)
    assert case.status == CaseStatus.ACCEPTED

    # when: the department's system reviews and decides over HTTP
    token = department_token(live_server, api_client)
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{live_server.url}/api/v1/cases/{case.pk}"
    listed = requests.get(f"{live_server.url}/api/v1/cases/", headers=headers, timeout=10)
    review = requests.post(f"{api}/review/", json={}, headers=headers, timeout=10)
    decision = requests.post(
        f"{api}/decide/",
        json={"decision": "approved", "result": {"licence_no": "NC-2026-0001"}, "complete": True},
        headers=headers,
        timeout=10,
    )

    # then
    assert [row["number"] for row in listed.json()["results"]] == [number]
    assert review.status_code == 200, review.text
    assert decision.status_code == 200, decision.text
    assert decision.json()["status"] == "completed"

    # when: the citizen looks at the case again
    page.goto(case_url)

    # then: the result and the whole history are on the timeline
    expect(page.get_by_test_id("case-status")).to_have_text("已办结")
    expect(page.get_by_test_id("case-decision")).to_have_text("准予许可")
    timeline = page.get_by_role("list", name="办理环节")
    for step in (
        "提交申请",
        "一次性告知补正",
        "提交补正材料",
        "受理",
        "开始审查",
        "作出决定",
        "办结",
    ):
        expect(timeline).to_contain_text(step)
    expect(timeline.locator('li[data-action="decide"]')).to_contain_text(department.name)
