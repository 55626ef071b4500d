"""A walk-in without an account, in a real browser (issue 16 §3, Must show).

The clerk serves 郑秀英, who is in the population registry but has no portal account: the ID
card is checked against the registry (a mistyped name is refused and nothing typed is lost),
a contact phone is recorded, the case is created and accepted, and the acceptance SMS goes to
that phone. Later she registers with her own phone, verifies the same ID number, and finds
the case in 我的办件.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from apps.identity.constants import StaffRole
from tests.cases.factories import item_version
from tests.identity.factories import (
    PopulationRecordFactory,
    StaffMembershipFactory,
    UserFactory,
    valid_id_number,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"


@pytest.fixture
def calendar_2026(transactional_db) -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


def test_clerk_serves_a_walk_in_who_later_registers_and_sees_the_case(
    live_server, page: Page, login, sms_outbox, department, calendar_2026
) -> None:
    # given: 郑秀英 in the registry without an account; an item; a window clerk
    id_number = valid_id_number(region="360124")
    PopulationRecordFactory(name="郑秀英", id_number=id_number)
    version = item_version(department)
    StaffMembershipFactory(
        department=department, role=StaffRole.CLERK, user=UserFactory(username="clerk-wang")
    )

    # when: the clerk mistypes the name on the card
    login(page, live_server, "clerk-wang", PASSWORD, next_path="/office/intake/")
    page.get_by_label("身份证号码").fill(id_number)
    page.get_by_label("姓名").fill("郑秀兰")
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_role("button", name="核验身份").click()

    # then: refused, and what was typed is still there
    expect(page.get_by_role("alert")).to_contain_text("身份证号码与姓名不一致")
    expect(page.get_by_label("身份证号码")).to_have_value(id_number)
    expect(page.get_by_label("联系电话")).to_have_value("13912345678")

    # when: the right name
    page.get_by_label("姓名").fill("郑秀英")
    page.get_by_role("button", name="核验身份").click()

    # then: served without an account, masked on screen
    expect(page.get_by_test_id("intake-applicant")).to_have_text("郑*英")
    expect(page.get_by_test_id("intake-walk-in")).to_contain_text("139****5678")
    expect(page.get_by_role("main")).not_to_contain_text(id_number)

    # when: choose the item, receive the papers, fill in the form and accept
    page.get_by_label("事项").select_option(value=version.implementation_code)
    page.get_by_role("button", name="选择").click()
    page.get_by_label("居民身份证").check()
    page.get_by_label("申请表（必要）").check()
    page.get_by_label("申请人姓名").fill("郑秀英")
    page.get_by_label("身份证号码").last.fill(id_number)
    page.get_by_label("联系电话").fill("13912345678")
    page.get_by_label("申领原因").select_option(label="首次申领")
    page.get_by_label("本人承诺所填信息真实有效").check()
    page.get_by_role("button", name="创建并受理").click()

    # then: accepted; the SMS went to the recorded phone
    expect(page.get_by_role("status")).to_contain_text("已受理，办件编号")
    number = page.get_by_test_id("case-number").inner_text()
    assert re.fullmatch(rf"{version.implementation_code}\d{{12}}", number)
    assert [m.to for m in sms_outbox] == ["13912345678"]
    assert number in sms_outbox[0].text

    # when: later, she registers with her own phone and verifies the same ID number
    page.context.clear_cookies()
    page.goto(live_server.url + "/accounts/register/")
    page.get_by_label("手机号码").fill("13600008888")
    page.get_by_role("button", name="获取验证码").click()
    code = re.search(r"验证码是(\d{6})", sms_outbox[-1].text).group(1)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("用户名").fill("zheng-xiuying")
    page.get_by_label("密码", exact=True).fill("walk-in-pass-2026")
    page.get_by_label("确认密码").fill("walk-in-pass-2026")
    page.get_by_role("button", name="注册", exact=True).click()
    expect(page.get_by_test_id("assurance-level")).to_contain_text("L1")
    page.get_by_label("姓名").fill("郑秀英")
    page.get_by_label("居民身份证号码").fill(id_number)
    page.get_by_role("button", name="提交核验").click()

    # then: told, and the case is in 我的办件
    expect(page.get_by_role("main")).to_contain_text("窗口办理的事项已归入“我的办件”")
    page.goto(live_server.url + "/cases/mine/")
    expect(page.get_by_role("main")).to_contain_text(number)
    page.get_by_role("link", name=number).click()
    expect(page.get_by_test_id("case-status")).to_have_text("已受理")
