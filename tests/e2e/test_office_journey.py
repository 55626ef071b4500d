"""A clerk's day starts at /office/ (issue 16 §6, Must show): signed out, the portal's own
staff sign-in (not the Django admin login); signed in, the office home counts 待受理, 待补正,
临期 and 超期 in the clerk's scope; each count opens the queue filtered to it, most urgent
first. Also at phone width, without horizontal scrolling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
import time_machine
from playwright.sync_api import Page, expect

from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.identity.constants import StaffRole
from tests.cases.factories import case_in, citizen, item_version, reviewer_of
from tests.identity.factories import StaffMembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def calendar_2026(transactional_db) -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


def test_clerk_signs_in_at_office_sees_counts_and_opens_the_filtered_queue(
    live_server, page: Page, department, other_department, calendar_2026
) -> None:
    # given: a window clerk with two cases waiting, one awaiting a supplement, one overdue,
    # one decided; and a waiting case of another department
    version = item_version(department)
    clerk = UserFactory(username="clerk-li")
    StaffMembershipFactory(department=department, role=StaffRole.CLERK, user=clerk)
    reviewer = reviewer_of(department)

    def make(status: str, *, version=version, clerk=clerk, reviewer=reviewer):
        return case_in(status, version=version, applicant=citizen(), clerk=clerk, reviewer=reviewer)

    with time_machine.travel(timezone.now() - timedelta(days=40), tick=False):
        overdue = make(CaseStatus.IN_REVIEW)
    older = make(CaseStatus.SUBMITTED)
    newer = make(CaseStatus.SUBMITTED)
    make(CaseStatus.AWAITING_SUPPLEMENT)
    decided = make(CaseStatus.DECIDED)
    elsewhere_clerk = StaffMembershipFactory(department=other_department, role=StaffRole.CLERK).user
    elsewhere = make(
        CaseStatus.SUBMITTED,
        version=item_version(other_department, basic_code="000000009901"),
        clerk=elsewhere_clerk,
        reviewer=reviewer_of(other_department),
    )

    # when: the clerk opens /office/ signed out
    page.goto(live_server.url + "/office/")

    # then: the staff sign-in of the portal, not the admin's
    expect(page).to_have_url(re.compile(r"/office/login/\?next=/office/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("工作人员登录")

    # when: signing in
    page.get_by_label("用户名或手机号码").fill("clerk-li")
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()

    # then: the office home with the clerk's counts, and no calendar button answering 403
    expect(page).to_have_url(live_server.url + "/office/")
    expect(page.get_by_test_id("count-pending")).to_contain_text("2")
    expect(page.get_by_test_id("count-supplement")).to_contain_text("1")
    expect(page.get_by_test_id("count-overdue")).to_contain_text("1")
    expect(page.get_by_test_id("count-due-soon")).to_contain_text("0")
    expect(page.get_by_role("link", name=re.compile("前往后台录入放假安排"))).to_have_count(0)

    # when: opening 待受理
    page.get_by_test_id("count-pending").click()

    # then: the queue filtered to it, the earliest limit first, nothing of another department
    expect(page).to_have_url(re.compile(r"/office/cases/\?status=pending$"))
    rows = page.get_by_test_id("case-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text(older.number)
    expect(rows.nth(1)).to_contain_text(newer.number)
    expect(page.get_by_label("状态")).to_have_value("pending")
    expect(page.get_by_role("main")).not_to_contain_text(elsewhere.number)

    # when: back home and 超期
    page.get_by_role("link", name="工作台", exact=True).click()
    page.get_by_test_id("count-overdue").click()

    # then
    expect(rows).to_have_count(1)
    expect(rows.nth(0)).to_contain_text(overdue.number)

    # when: the default queue, then every case in process, still one choice away
    page.goto(live_server.url + "/office/cases/")
    expect(rows).to_have_count(2)
    expect(page.get_by_role("main")).not_to_contain_text(decided.number)
    page.get_by_label("状态").select_option("live")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_role("main")).to_contain_text(decided.number)

    # when: the home at phone width
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(live_server.url + "/office/")

    # then: no horizontal scrolling
    expect(page.get_by_test_id("count-pending")).to_be_visible()
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390
