"""新生儿出生一件事 in a real browser, the citizen on a phone: the guiding questions, one form,
one set of uploads, one submission; a supplement asked by one child's department answered on
the bundle page; one acceptance at the comprehensive window; the departments' own system
deciding each child over HTTP, the 出生医学证明 number flowing into 出生登记 without being typed
again; the citizen following the progress and getting every result together (统一出件).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import requests
from playwright.sync_api import Browser, Page, expect

from apps.bundles.constants import ApplicationStatus
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases import personal
from apps.cases import services as case_services
from apps.cases.constants import CaseStatus
from apps.cases.permissions import CaseActor
from apps.identity.constants import StaffRole
from tests.bundles.factories import published_birth_bundle
from tests.cases.factories import PDF
from tests.e2e.test_phone import AXE_RUN, AXE_SOURCE
from tests.identity.factories import (
    ApiClientFactory,
    PersonFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)
PHONE = {"width": 390, "height": 844}
CERTIFICATE_NO = "Q360100260001"


@pytest.fixture
def calendar_2026(transactional_db) -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar
    from apps.licences.seed import ensure_seed_catalogue

    # The licence catalogue (a data migration) is gone after another transactional test.
    ensure_seed_catalogue()
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


@pytest.fixture
def pdf_file(tmp_path: Path) -> Path:
    path = tmp_path / "材料.pdf"
    path.write_bytes(PDF)
    return path


def new_page(browser: Browser, viewport: dict[str, int]) -> Page:
    context = browser.new_context(locale="zh-CN", viewport=viewport, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    return context.new_page()


def fits(page: Page) -> None:
    """The page is never wider than the phone."""
    width, viewport = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert width <= viewport, f"{page.url}: {width}px wide at {viewport}px"


def axe_clean(page: Page) -> None:
    """axe-core finds no violation and no undecided colour contrast (as in test_phone)."""
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(AXE_RUN)
    found = [
        (rule["id"], rule["nodes"]) for kind in ("violations", "undecided") for rule in result[kind]
    ]
    assert found == [], f"{page.url}: {found}"


def decide_over_http(live_server, token: str, case_id: int, result: dict) -> None:
    """The department's own system reviews, decides and completes one child case."""
    headers = {"Authorization": f"Bearer {token}"}
    api = f"{live_server.url}/api/v1/cases/{case_id}"
    review = requests.post(f"{api}/review/", json={}, headers=headers, timeout=15)
    assert review.status_code == 200, review.text
    decision = requests.post(
        f"{api}/decide/",
        json={"decision": "approved", "result": result, "complete": True},
        headers=headers,
        timeout=15,
    )
    assert decision.status_code == 200, decision.text


def child(application: BundleApplication, key: str) -> BundleChild:
    return BundleChild.objects.select_related("case").get(
        application=application, component__key=key
    )


def test_newborn_bundle_from_questions_to_unified_results(
    live_server, browser: Browser, login, pdf_file: Path, department, calendar_2026
) -> None:
    # given: the bundle, a verified parent, a comprehensive-window clerk, the departments' system
    version = published_birth_bundle(department)
    parent = PersonFactory(user=UserFactory(username="li-ma"), name="李华", verified=True).user
    clerk = StaffMembershipFactory(
        department=department, role=StaffRole.CLERK, user=UserFactory(username="window-wang")
    ).user
    api_client = ApiClientFactory(department=department)
    base = live_server.url
    phone = new_page(browser, PHONE)

    # when: the parent answers the guiding questions on a phone
    login(phone, live_server, parent.username, PASSWORD, next_path="/bundles/")
    phone.get_by_role("link", name=version.name).first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text(version.name)
    fits(phone)
    phone.get_by_role("group", name="是否需要为新生儿办理社会保障卡？").get_by_label("否").check()
    phone.get_by_role("button", name="下一步").click()

    # then: the guide shows what applies; the card is not among it
    expect(phone.get_by_role("link", name="开始申请（一表填写）")).to_be_visible()
    phone.get_by_role("link", name="开始申请（一表填写）").click()

    # when: one form (the name prefilled from the profile), one set of uploads, one submission
    expect(phone.get_by_label("申请人姓名")).to_have_value("李华")
    fits(phone)
    phone.get_by_label("身份证号码").fill("11010519491231002X")
    phone.get_by_label("联系电话").fill("13800138000")
    phone.get_by_label("申领原因").select_option(label="首次申领")
    phone.get_by_label("本人承诺所填信息真实有效").check()
    for upload in phone.locator('input[type="file"]').all():
        upload.set_input_files(pdf_file)
    phone.get_by_role("button", name="一次提交").click()

    # then: the progress page: the root child went to its department, the others wait for it
    expect(phone.get_by_role("heading", name="各事项办理进度")).to_be_visible()
    steps = phone.locator(".bundle-steps")
    expect(steps).to_contain_text("已提交部门")
    expect(steps).to_contain_text("等待“出生医学证明办理”办结后自动提交")
    fits(phone)
    application = BundleApplication.objects.get(applicant_user=parent)
    progress_url = phone.url

    # when: the hospital's window asks for a supplement on the 出生医学证明
    cert = child(application, "cert")
    case_services.request_supplement(
        case_id=cert.case_id,
        actor=CaseActor.of(clerk),
        items=[{"key": "application", "reason": "申请表缺少父母签名"}],
        due_days=5,
    )

    # then: the parent sees and answers it on the bundle page itself
    phone.goto(progress_url)
    supplement = phone.locator("form.bundle-supplement")
    expect(supplement).to_contain_text("申请表缺少父母签名")
    fits(phone)
    axe_clean(phone)
    supplement.locator('input[type="file"]').set_input_files(pdf_file)
    supplement.get_by_role("button", name="提交补正材料").click()
    expect(phone.get_by_role("status").first).to_contain_text("补正材料已提交")
    assert child(application, "cert").case.status == CaseStatus.SUPPLEMENTED

    # when: the comprehensive-window clerk accepts the bundle once
    office = new_page(browser, {"width": 1280, "height": 900})
    login(office, live_server, clerk.username, PASSWORD, next_path="/office/bundles/")
    office.get_by_role("row", name=re.compile("李华")).get_by_role(
        "link", name=version.name
    ).click()
    office.get_by_role("button", name="一窗受理（各子事项分别为其部门受理）").click()
    expect(office.get_by_role("status").first).to_contain_text("已受理")
    assert child(application, "cert").case.status == CaseStatus.ACCEPTED

    # when: the departments' system decides each child as it arrives (over HTTP)
    token = requests.post(
        f"{base}/o/token/",
        data={"grant_type": "client_credentials", "scope": "cases:read cases:write"},
        auth=(api_client.application.client_id, "test-client-secret"),
        timeout=15,
    ).json()["access_token"]
    decide_over_http(live_server, token, cert.case_id, {"certificate_no": CERTIFICATE_NO})

    # then: 出生登记 started by itself, accepted at the same window, with the certificate
    # number in its form, never typed by the parent
    hukou = child(application, "hukou")
    assert hukou.case.status == CaseStatus.ACCEPTED, hukou.last_error
    assert personal.full_form(hukou.case)["birth_certificate_no"] == CERTIFICATE_NO
    phone.goto(progress_url)
    expect(phone.locator(".bundle-steps")).to_contain_text("已作出决定")
    decide_over_http(live_server, token, hukou.case_id, {"hukou_no": "360100-0001"})
    decide_over_http(live_server, token, child(application, "insurance").case_id, {})

    # then: everything is concluded and the results are listed together
    application.refresh_from_db()
    assert application.status == ApplicationStatus.CONCLUDED
    phone.goto(progress_url)
    results = phone.locator("#results")
    for name in ("出生医学证明办理", "出生登记", "城乡居民医保参保登记"):
        expect(results).to_contain_text(name)
    licence = child(application, "cert").case.result_data["licence"]["identifier"]
    expect(results).to_contain_text(licence)
    fits(phone)
    axe_clean(phone)

    # when: the window hands every result over at once (统一出件)
    office.reload()
    office.get_by_role("button", name="统一出件（各子事项结果一并送达）").click()
    expect(office.get_by_role("status").first).to_contain_text("已统一出件")

    # then: the parent sees it
    phone.goto(progress_url)
    expect(phone.locator("#results")).to_contain_text("全部结果已于")
    fits(phone)
