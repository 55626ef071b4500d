"""一事一评 and the bad-review loop in a real browser (issue 12, Must show): a citizen rates a
completed case 非常不满意 → the department sees the ticket, records the follow-up and the
measures → the citizen reads the result and answers → the public page shows the rectified
case, without the citizen's identity. Two browser contexts, real logins."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.cases.constants import CaseStatus
from apps.identity.constants import StaffRole
from apps.reviews.models import RectificationTicket
from tests.cases.factories import case_in, clerk_of, item_version
from tests.identity.factories import PersonFactory, StaffMembershipFactory, UserFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "indicator_sets")]


@pytest.fixture
def indicator_sets(transactional_db) -> None:
    from apps.reviews.indicators import ensure_indicator_sets

    ensure_indicator_sets()


PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)


@pytest.fixture
def calendar_seeded(transactional_db) -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2026)
    calendar.invalidate_calendar()


def test_bad_review_is_followed_up_rectified_answered_and_published(
    page: Page, browser: Browser, live_server, login, department, calendar_seeded
) -> None:
    # given a completed case of a verified citizen
    citizen = PersonFactory(
        name="周杰", verified=True, user=UserFactory(username="citizen-zhou")
    ).user
    reviewer = StaffMembershipFactory(
        department=department, role=StaffRole.REVIEWER, user=UserFactory(username="dept-wu")
    ).user
    case = case_in(
        CaseStatus.COMPLETED,
        version=item_version(department),
        applicant=citizen,
        clerk=clerk_of(department),
        reviewer=reviewer,
    )
    # when the citizen rates it 非常不满意 on the case page
    login(page, live_server, citizen.username, PASSWORD, next_path=f"/cases/{case.pk}/")
    panel = page.locator(".reviews-panel")
    panel.get_by_label("非常不满意").check()
    panel.get_by_label("办事效率：办理时间长").check()
    panel.get_by_label("文字评价", exact=False).fill("跑了三趟，电话 13812345678")
    panel.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("感谢您的评价")).to_be_visible()
    ticket = RectificationTicket.objects.get()
    # and the department works the ticket
    office = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai").new_page()
    login(office, live_server, reviewer.username, PASSWORD, next_path="/office/reviews/")
    office.get_by_role("link", name=f"#{ticket.pk}").click()
    expect(office.get_by_text("跑了三趟，电话 138****5678")).to_be_visible()
    office.get_by_label("回访记录").fill("已电话联系申请人")
    office.get_by_role("button", name="记录回访").click()
    office.get_by_label("核实情况").fill("材料重复提交，告知不一次到位")
    office.get_by_role("button", name="核实完成，开始整改").click()
    office.get_by_label("整改措施").fill("修订一次性告知清单并培训窗口人员")
    office.get_by_label("整改结果").fill("告知清单已更新，申请人可一次办成")
    office.get_by_role("button", name="提交整改结果并反馈评价人").click()
    expect(
        office.get_by_role("heading", name=f"差评工单 #{ticket.pk} · 待评价人反馈")
    ).to_be_visible()
    # and the citizen reads the result and answers
    page.goto(f"{live_server.url}/reviews/feedback/{ticket.pk}/")
    expect(page.get_by_text("修订一次性告知清单并培训窗口人员")).to_be_visible()
    page.get_by_label("满意", exact=True).check()
    page.get_by_role("button", name="提交反馈").click()
    expect(page.get_by_text("感谢您的反馈")).to_be_visible()
    # then the public page shows the rectified case, not who rated it
    page.goto(f"{live_server.url}/reviews/")
    expect(page.get_by_text("告知清单已更新，申请人可一次办成")).to_be_visible()
    html = page.content()
    assert "周杰" not in html
    assert "13812345678" not in html
    ticket.refresh_from_db()
    assert ticket.status == "closed"
