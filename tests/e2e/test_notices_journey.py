"""Being told the outcome, in a real browser at phone size: the citizen sees the supplement,
acceptance and decision notices arrive in the message centre (unread badge in the header),
opens the decision and reads the printable decision document.

The clerk's and the department's steps go through the case services (their own pages have
their own journeys); everything the citizen sees is the browser's.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.cases import services
from apps.cases.constants import Decision
from apps.cases.permissions import CaseActor
from tests.cases.factories import clerk_of, draft, item_version, pdf, reviewer_of
from tests.identity.factories import PersonFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)


@pytest.fixture
def calendar_2026(transactional_db) -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


@pytest.fixture
def phone(browser: Browser) -> Page:
    context = browser.new_context(
        locale="zh-CN",
        viewport={"width": 390, "height": 844},
        timezone_id="Asia/Shanghai",
        is_mobile=True,
        has_touch=True,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def _no_horizontal_overflow(page: Page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def _open_messages(page: Page, base: str) -> None:
    page.goto(f"{base}/messages/")
    expect(page.get_by_role("heading", level=1, name="站内消息")).to_be_visible()
    _no_horizontal_overflow(page)


def test_citizen_is_told_of_supplement_acceptance_and_decision(
    live_server, phone: Page, login, department, calendar_2026, sms_outbox
) -> None:
    # given: a citizen with a submitted application, the window clerk, the department
    version = item_version(department)
    citizen = PersonFactory(
        user=UserFactory(username="wang-fang"), name="王芳", verified=True, phone="13900003333"
    ).user
    clerk, reviewer = CaseActor.of(clerk_of(department)), CaseActor.of(reviewer_of(department))
    me = CaseActor.of(citizen)
    case = draft(version, citizen)
    services.submit_case(case_id=case.pk, actor=me)
    base = live_server.url
    login(phone, live_server, "wang-fang", PASSWORD, next_path="/messages/")

    # when: the clerk asks once for a supplement
    services.request_supplement(
        case_id=case.pk,
        actor=clerk,
        items=[{"key": "application", "reason": "申请表未签字"}],
        due_days=5,
    )

    # then: the header counts it and the message centre shows it, unread
    _open_messages(phone, base)
    expect(phone.get_by_test_id("unread-count")).to_have_text("2")  # 收件 + 补正
    supplement = phone.get_by_test_id("message").filter(has_text="请补正材料")
    expect(supplement).to_have_count(1)
    supplement.get_by_role("link").click()
    expect(phone.locator(".message-detail__body")).to_contain_text("需要补正材料")
    expect(phone.get_by_test_id("unread-count")).to_have_text("1")
    phone.get_by_role("link", name="查看详情").click()
    expect(phone).to_have_url(re.compile(rf"/cases/{case.pk}/notice/supplement/$"))
    expect(phone.get_by_role("heading", name="补正材料一次性告知书")).to_be_visible()

    # when: the citizen supplies it, the clerk accepts, the department decides
    services.add_material_upload(case_id=case.pk, actor=me, slot_key="application", upload=pdf())
    services.resubmit_case(case_id=case.pk, actor=me)
    services.accept_case(case_id=case.pk, actor=clerk)
    services.start_review(case_id=case.pk, actor=reviewer)
    services.decide_case(case_id=case.pk, actor=reviewer, decision=Decision.APPROVED)

    # then: acceptance and decision are in the message centre, newest first
    _open_messages(phone, base)
    titles = phone.get_by_test_id("message").locator(".message-item__title")
    expect(titles.nth(0)).to_contain_text("审批决定")
    expect(phone.get_by_test_id("message").filter(has_text="办件已受理")).to_have_count(1)
    expect(phone.get_by_test_id("message").filter(has_text="请补正材料")).to_have_count(1)

    # when: the citizen opens the decision
    phone.get_by_test_id("message").filter(has_text="审批决定").get_by_role("link").click()
    expect(phone.locator(".message-detail__body")).to_contain_text("已作出决定")
    phone.get_by_role("link", name="查看详情").click()

    # then: the decision document, printable (the button uses the data-print hook)
    expect(phone).to_have_url(re.compile(rf"/cases/{case.pk}/notice/decision/$"))
    expect(phone.get_by_role("heading", name="准予行政许可决定书")).to_be_visible()
    expect(phone.get_by_text(version.name, exact=False).first).to_be_visible()
    expect(phone.get_by_role("button", name="打印")).to_have_attribute("data-print", "")
    _no_horizontal_overflow(phone)

    # and the case page shows where it stands and what happens next
    phone.goto(f"{base}/cases/{case.pk}/")
    expect(phone.locator(".stepper__step--done")).to_have_count(4)  # 申报 受理 审查 决定
    expect(phone.locator(".stepper__step--current")).to_contain_text("办结")
    expect(phone.get_by_test_id("decision-link")).to_be_visible()
    _no_horizontal_overflow(phone)

    # and the text messages went to the registered mobile
    assert {m.to for m in sms_outbox} == {"13900003333"}
    assert any("准予许可" in m.text for m in sms_outbox)
