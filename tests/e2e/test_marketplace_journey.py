"""中介超市 in a real browser (issue 14, Must show): an owner posts a 随机抽取 project, the
operator publishes it, three agencies register in their own browser contexts, beat closes the
registration and runs the draw, the public page shows inputs and result, the stand-alone script
agrees, then (after the award's 公示 period) contract, completion and the owner's evaluation
change the agency's credit."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
import time_machine
from playwright.sync_api import Browser, Page, expect

from django.utils import timezone

from apps.marketplace.models import Agency, Project
from apps.marketplace.services import dispatch_due_projects
from tests.marketplace.factories import (
    IntermediaryServiceFactory,
    l3_user,
    listed_agency,
    operator_user,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)
SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "recompute_draw.py"


def _local(moment) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def test_random_draw_journey(page: Page, browser: Browser, live_server, login, tmp_path) -> None:
    # given a service on the list, three listed agencies, an owner and the operator
    service = IntermediaryServiceFactory(name="建设项目环境影响评价")
    agencies = [listed_agency(service) for _ in range(3)]
    owner = l3_user("刘业主")
    operator = operator_user()
    closes = timezone.now().replace(second=0, microsecond=0) + timedelta(minutes=30)
    # when the owner posts the project through the form
    login(page, live_server, owner.username, PASSWORD, next_path="/marketplace/projects/new/")
    page.get_by_label("项目名称").fill("青山湖区污水管网改造环境影响评价")
    page.get_by_label("中介服务事项").select_option(str(service.pk))
    page.get_by_label("服务范围").fill("编制环境影响报告表")
    page.get_by_label("预算或最高限价（元）").fill("80000")
    page.get_by_label("服务时限（日）").fill("30")
    page.get_by_label("选取方式").select_option("random")
    page.get_by_label("报名截止时间").fill(_local(closes))
    page.get_by_label("选取时间").fill(_local(closes + timedelta(minutes=30)))
    page.get_by_role("button", name="提交审核").click()
    expect(page.get_by_text("项目已提交，运营机构审核后发布")).to_be_visible()
    project = Project.objects.get()
    # and the operator publishes it
    operator_context = browser.new_context(locale="zh-CN")
    operator_page = operator_context.new_page()
    login(operator_page, live_server, operator.username, PASSWORD, next_path="/office/marketplace/")
    operator_page.get_by_role("button", name="发布").click()
    expect(operator_page.get_by_text("已审核项目")).to_be_visible()
    # and three agencies register, each in its own browser context
    contexts = {}
    for agency in agencies:
        context = browser.new_context(locale="zh-CN", viewport={"width": 390, "height": 844})
        agency_page = context.new_page()
        login(
            agency_page,
            live_server,
            agency.submitted_by.username,
            PASSWORD,
            next_path=f"/marketplace/projects/{project.pk}/",
        )
        agency_page.get_by_role("button", name="提交报名").click()
        expect(agency_page.get_by_text("报名成功")).to_be_visible()
        contexts[agency.pk] = agency_page
    # and beat closes the registration and runs the draw at the announced times
    project.refresh_from_db()
    with time_machine.travel(project.registration_closes_at, tick=False):
        dispatch_due_projects()
    with time_machine.travel(project.selection_at, tick=False):
        dispatch_due_projects()
    project.refresh_from_db()
    winner = project.winner
    # and the award's 公示 period ends with no objection: beat opens the contract
    with time_machine.travel(project.award_publicity_ends_at, tick=False):
        dispatch_due_projects()
    # then the public page shows the inputs and the result
    page.goto(f"{live_server.url}/marketplace/projects/{project.pk}/")
    page.get_by_role("link", name="查看摇号输入、结果与复算方法").click()
    expect(page.get_by_text(project.draw.server_seed, exact=True)).to_be_visible()
    expect(page.get_by_role("listitem").filter(has_text=winner.uscc)).to_contain_text("抽中")
    # and the stand-alone script agrees with the published JSON
    published = page.request.get(f"{live_server.url}/marketplace/draws/{project.draw.pk}.json")
    source = tmp_path / "draw.json"
    source.write_text(published.text(), encoding="utf-8")
    completed = subprocess.run(
        [sys.executable, str(SCRIPT), str(source)], capture_output=True, text=True, check=False
    )
    assert completed.returncode == 0, completed.stdout
    assert json.loads(completed.stdout)["result"] == [winner.uscc]
    # and both sides confirm the contract and the completion; the owner evaluates
    winner_page = contexts[winner.pk]
    for actor_page in (page, winner_page):
        actor_page.goto(f"{live_server.url}/marketplace/projects/{project.pk}/")
        actor_page.get_by_role("button", name="在线确认合同").click()
        expect(actor_page.get_by_text("已确认合同")).to_be_visible()
    for actor_page in (page, winner_page):
        actor_page.goto(f"{live_server.url}/marketplace/projects/{project.pk}/")
        actor_page.get_by_role("button", name="确认服务完成").click()
        expect(actor_page.get_by_text("已确认服务完成")).to_be_visible()
    page.goto(f"{live_server.url}/marketplace/projects/{project.pk}/")
    page.get_by_label("服务评价得分（0-100）").fill("60")
    page.get_by_role("button", name="提交评价").click()
    expect(page.get_by_text("评价已提交")).to_be_visible()
    # then the agency's credit changed: 0.7 × 100 + 0.1 × 100 + 0.2 × 60
    assert Agency.objects.get(pk=winner.pk).credit_score == Decimal("92.00")
    page.goto(f"{live_server.url}/marketplace/agencies/{winner.pk}/")
    expect(page.get_by_text("100.00 → 92.00")).to_be_visible()
    # and the agency's phone-sized page does not scroll sideways
    width = winner_page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
