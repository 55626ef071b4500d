"""Identity pages in a real browser: login (the shared ``login`` fixture), lockout, logout, and
the journey register → log in → profile → verify real name → bind → grant an agent → revoke."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.identity.factories import (
    LegalPersonRecordFactory,
    PersonFactory,
    PopulationRecordFactory,
    UserFactory,
    valid_id_number,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"


def test_login_fixture_signs_in_by_username_and_logout_signs_out(
    live_server, page: Page, login
) -> None:
    # given
    PersonFactory(user=UserFactory(username="zhao-liu"), phone="13600001111")

    # when
    login(page, live_server, "zhao-liu", PASSWORD)

    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("个人中心")
    expect(page.get_by_test_id("masked-phone")).to_have_text("136****1111")

    # when
    page.get_by_role("banner").get_by_role("button", name="退出登录").click()

    # then
    expect(page.get_by_role("status")).to_contain_text("您已安全退出")
    expect(page.get_by_role("banner").get_by_role("link", name="登录")).to_be_visible()


def test_login_by_phone_and_lockout_page(live_server, page: Page, login) -> None:
    # given
    PersonFactory(user=UserFactory(username="qian-qi"), phone="13600002222")

    # when: five wrong passwords
    page.goto(live_server.url + "/accounts/login/")
    for attempt in range(5):
        page.get_by_label("用户名或手机号码").fill("13600002222")
        page.get_by_label("密码", exact=True).fill(f"wrong-{attempt}")
        page.get_by_role("button", name="登录", exact=True).click()
        if attempt < 4:
            expect(page.get_by_role("alert")).to_contain_text("用户名（手机号码）或密码不正确")

    # then
    expect(page.get_by_role("heading", level=1)).to_have_text("账号已临时锁定")
    expect(page.get_by_role("alert")).to_contain_text("请在 15 分钟后再试")


def test_login_by_phone_lands_on_next(live_server, page: Page, login) -> None:
    # given
    PersonFactory(user=UserFactory(username="sun-ba"), phone="13600003333")

    # when
    login(page, live_server, "13600003333", PASSWORD, next_path="/cases/mine/")

    # then
    expect(page).to_have_url(live_server.url + "/cases/mine/")


def test_register_verify_bind_grant_and_revoke_journey(
    live_server, page: Page, login, sms_outbox
) -> None:
    # given: the registries know the new user and their company; a verified colleague exists
    id_number = valid_id_number()
    PopulationRecordFactory(name="周婷", id_number=id_number)
    record = LegalPersonRecordFactory(
        name="南昌示范商贸有限公司", legal_rep_name="周婷", legal_rep_id_number=id_number
    )
    PersonFactory(
        user=UserFactory(username="colleague"), name="吴永刚", phone="13700007777", verified=True
    )

    # when: register with the SMS code (no JavaScript needed: the button posts the form)
    page.goto(live_server.url + "/accounts/register/")
    page.get_by_label("手机号码").fill("13600009999")
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_role("status")).to_contain_text("验证码已发送")
    code = re.search(r"验证码是(\d{6})", sms_outbox[-1].text).group(1)
    page.get_by_label("短信验证码").fill(code)
    page.get_by_label("用户名").fill("zhou-ting")
    page.get_by_label("密码", exact=True).fill("journey-pass-2024")
    page.get_by_label("确认密码").fill("journey-pass-2024")
    page.get_by_role("button", name="注册", exact=True).click()

    # then: signed in on the profile page at L1
    expect(page.get_by_role("heading", level=1)).to_have_text("个人中心")
    expect(page.get_by_test_id("assurance-level")).to_contain_text("L1")
    expect(page.get_by_test_id("masked-phone")).to_have_text("136****9999")

    # when: sign out and back in by phone through the shared fixture
    page.get_by_role("main").get_by_role("button", name="退出登录").click()
    login(page, live_server, "13600009999", "journey-pass-2024")

    # and: verify the real name, first with a typo in the ID number
    page.get_by_label("姓名").fill("周婷")
    page.get_by_label("居民身份证号码").fill(id_number[:-1])
    page.get_by_role("button", name="提交核验").click()
    expect(page.get_by_text("身份证号码应为18位（当前17位）")).to_be_visible()
    page.get_by_label("姓名").fill("周婷")
    page.get_by_label("居民身份证号码").fill(id_number)
    page.get_by_role("button", name="提交核验").click()

    # then
    expect(page.get_by_role("status")).to_contain_text("实名核验通过")
    expect(page.get_by_test_id("assurance-level")).to_contain_text("L2")
    expect(page.get_by_test_id("masked-id")).to_have_text(id_number[:4] + "*" * 10 + id_number[-4:])
    expect(page.get_by_role("main")).not_to_contain_text(id_number)

    # when: bind the company and authorise the colleague for one item
    page.get_by_label("统一社会信用代码").fill(record.uscc)
    page.get_by_role("button", name="绑定企业").click()
    expect(page.get_by_role("status")).to_contain_text("已绑定企业：南昌示范商贸有限公司")
    section = page.get_by_role("region", name="南昌示范商贸有限公司 · 经办人授权")
    section.get_by_label("经办人手机号码").fill("13700007777")
    section.get_by_label("精准授权（指定事项）").check()
    section.get_by_label("授权事项编码").fill("11360100MB0000001X4000117001")
    section.get_by_role("button", name="授权", exact=True).click()

    # then
    expect(page.get_by_role("status")).to_contain_text("已授权 吴*刚 代表南昌示范商贸有限公司办事")
    section = page.get_by_role("region", name="南昌示范商贸有限公司 · 经办人授权")
    row = section.get_by_role("row", name=re.compile("吴\\*刚"))
    expect(row).to_contain_text("有效")

    # when: revoke
    row.get_by_role("button", name="撤销对 吴*刚 的授权").click()

    # then
    expect(page.get_by_role("status")).to_contain_text("授权已撤销")
    row = page.get_by_role("region", name="南昌示范商贸有限公司 · 经办人授权").get_by_role(
        "row", name=re.compile("吴\\*刚")
    )
    expect(row).to_contain_text("已撤销（授权人撤销）")
    expect(row.get_by_role("button")).to_have_count(0)


def test_legal_rep_appoints_and_removes_a_licence_administrator(
    live_server, page: Page, login
) -> None:
    # given: a bound legal representative and a verified colleague
    from tests.identity.factories import EnterpriseFactory, verified_user

    rep = verified_user("陈静")
    rep.username = "chen-jing"
    rep.save(update_fields=["username"])
    enterprise = EnterpriseFactory(legal_representative=rep)
    verified_user("王晓五", phone="13600004444")
    login(page, live_server, "chen-jing", PASSWORD)
    section = page.locator(f"#enterprise-{enterprise.pk}")
    expect(section.get_by_role("heading", name="证照管理员（0/5）")).to_be_visible()

    # when: appointed by mobile number
    section.get_by_label("证照管理员手机号码").fill("13600004444")
    section.get_by_role("button", name="设置证照管理员").click()

    # then
    expect(page.get_by_text(f"已设置 王*五 为{enterprise.name}的证照管理员")).to_be_visible()
    expect(section.get_by_role("heading", name="证照管理员（1/5）")).to_be_visible()
    expect(section.get_by_test_id(f"licence-admins-{enterprise.pk}")).to_contain_text("王*五")

    # when: removed
    section.get_by_role("button", name="移除证照管理员 王*五").click()

    # then
    expect(page.get_by_text("已移除证照管理员，其授予的经办人授权同时失效")).to_be_visible()
    expect(section.get_by_role("heading", name="证照管理员（0/5）")).to_be_visible()
