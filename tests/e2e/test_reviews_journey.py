"""一次一评 in a real browser (issue 12, Must show): the clerk finishes a window service and
opens the rating link; the person served rates it on the hall pad in a second browser context
that is not signed in; the link then refuses a second rating."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from apps.identity.constants import StaffRole
from apps.reviews.models import Rating
from tests.identity.factories import StaffMembershipFactory, UserFactory
from tests.reviews.factories import WindowFactory

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db", "indicator_sets")]


@pytest.fixture
def indicator_sets(transactional_db) -> None:
    from apps.reviews.indicators import ensure_indicator_sets

    ensure_indicator_sets()


PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)


def test_window_service_rated_on_the_pad_page(
    page: Page, browser: Browser, live_server, login, department
) -> None:
    # given a clerk at a window of the department
    window = WindowFactory(departments=[department])
    clerk = StaffMembershipFactory(
        department=department,
        role=StaffRole.CLERK,
        hall=window.hall,
        window=window,
        user=UserFactory(username="clerk-zhao"),
    ).user
    # when the clerk records the finished service
    login(page, live_server, clerk.username, PASSWORD, next_path="/office/reviews/services/new/")
    page.get_by_label("服务内容").fill("社保卡补办")
    page.get_by_role("button", name="服务完成，生成评价链接").click()
    pad_link = page.get_by_role("link", name="在评价器（平板）上打开评价页")
    expect(pad_link).to_be_visible()
    pad_url = pad_link.get_attribute("href")
    assert pad_url is not None
    # and the person served rates it on the pad (a second context, not signed in)
    pad_context = browser.new_context(
        locale="zh-CN", viewport={"width": 390, "height": 844}, timezone_id="Asia/Shanghai"
    )
    pad = pad_context.new_page()
    pad.goto(pad_url)
    expect(pad.get_by_role("heading", name="请您对本次服务进行评价")).to_be_visible()
    pad.get_by_label("满意", exact=True).check()
    pad.get_by_label("服务态度：热情耐心").check()
    pad.get_by_role("button", name="提交评价").click()
    # then
    expect(pad.get_by_role("status")).to_contain_text("评价已提交")
    rating = Rating.objects.get()
    assert (rating.grade, rating.channel, rating.options) == ("satisfied", "hall_pad", ["60301"])
    assert rating.service.staff == clerk
    # the page fits a phone: no horizontal scroll
    assert pad.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    # and the link is single-use
    pad.goto(pad_url)
    expect(pad.get_by_role("alert")).to_contain_text("已使用或已失效")
    pad_context.close()
