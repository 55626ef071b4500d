"""新生儿出生一件事 in a real browser, the citizen on a phone: the guiding questions, one form,
one set of uploads, one submission, the results to the wallet; a supplement asked by one child's
department answered on the bundle page; one acceptance at the comprehensive window; the
departments' own system (the department simulator, its own process) receiving each child case
as a signed push from a real Celery worker and deciding it through the answer API, the
出生医学证明 number it issues flowing into 出生登记 without being typed again; the citizen
following the progress, getting every result together (统一出件) and the 出生医学证明 in the
wallet.
"""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from django.conf import settings

from apps.audit.models import AuditEvent
from apps.bundles.constants import ApplicationStatus, ChildState
from apps.bundles.models import BundleApplication, BundleChild, BundleVersion
from apps.cases import personal
from apps.cases import services as case_services
from apps.cases.constants import CaseStatus
from apps.cases.permissions import CaseActor
from apps.identity.constants import StaffRole
from tests.bundles.factories import published_birth_bundle
from tests.cases.factories import PDF
from tests.conftest import wait_until
from tests.e2e.test_phone import AXE_RUN, AXE_SOURCE
from tests.handoffs.factories import push_endpoint
from tests.identity.factories import (
    ApiClientFactory,
    PersonFactory,
    StaffMembershipFactory,
    UserFactory,
)

pytestmark = [pytest.mark.e2e, pytest.mark.worker, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)
PHONE = {"width": 390, "height": 844}
SECRET = "birth-departments-secret-0123456789abcdef"
# The hospital's system numbers its certificates in the order the cases reach it (the first).
CERTIFICATE_TEMPLATE = "Q36010026{seq:04d}"
CERTIFICATE_NO = "Q360100260001"
WALLET = "电子证照逐项存入证照夹（办结一项推送一项）"


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


def departments_system(version: BundleVersion, live_server, department_simulator, department):
    """The departments' own system: a push receiver holding the signing key, deciding (and
    办结) every case it receives through the answer API, with the result fields of each item
    (the certificate number, the 户口 number) as ``--result-for`` options."""
    codes = {
        c.key: c.item_version.implementation_code
        for c in version.components.select_related("item_version")
    }
    api_client = ApiClientFactory(department=department, allowed_scopes="handoffs")
    simulator = department_simulator(
        "--key",
        f"k1={SECRET}",
        "--portal-url",
        live_server.url,
        "--client-id",
        api_client.application.client_id,
        "--client-secret",
        "test-client-secret",
        "--answer",
        "decision",
        "--answer-subject",
        "cases.case",
        "--complete",
        "--result-for",
        f"{codes['cert']}:certificate_no={CERTIFICATE_TEMPLATE}",
        "--result-for",
        f"{codes['hukou']}:hukou_no=360100-{{seq:04d}}",
    )
    push_endpoint(department, simulator, secret=SECRET)
    return simulator


def child(application: BundleApplication, key: str) -> BundleChild:
    return BundleChild.objects.select_related("case").get(
        application=application, component__key=key
    )


def test_newborn_bundle_from_questions_to_results_in_the_wallet(
    live_server,
    browser: Browser,
    login,
    pdf_file: Path,
    department,
    calendar_2026,
    department_simulator,
    celery_worker_factory,
) -> None:
    # given: the bundle, a verified parent, a comprehensive-window clerk, the departments'
    # system (the simulator) and the portal's worker pushing to it
    version = published_birth_bundle(department)
    parent = PersonFactory(user=UserFactory(username="li-ma"), name="李华", verified=True).user
    clerk = StaffMembershipFactory(
        department=department, role=StaffRole.CLERK, user=UserFactory(username="window-wang")
    ).user
    env = {"SITE_URL": live_server.url, "CASES_UPLOAD_ROOT": str(settings.CASES_UPLOAD_ROOT)}
    with ThreadPoolExecutor(1) as pool:
        # Both processes start at once (starting the worker touches no database).
        starting_worker = pool.submit(celery_worker_factory, env=env)
        simulator = departments_system(version, live_server, department_simulator, department)
        worker = starting_worker.result()

    def logs() -> str:
        return simulator.log()[-3000:] + worker.log()[-3000:]

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

    # when: one form (the name prefilled from the profile), one set of uploads, the results to
    # the wallet, one submission
    expect(phone.get_by_label("申请人姓名")).to_have_value("李华")
    fits(phone)
    phone.get_by_label("身份证号码").fill("11010519491231002X")
    phone.get_by_label("联系电话").fill("13800138000")
    phone.get_by_label("申领原因").select_option(label="首次申领")
    phone.get_by_label("本人承诺所填信息真实有效").check()
    for upload in phone.locator('input[type="file"]').all():
        upload.set_input_files(pdf_file)
    phone.get_by_label(WALLET).check()
    phone.get_by_role("button", name="一次提交").click()

    # then: the progress page; the worker submits the root child to its department, the others
    # wait for it
    expect(phone.get_by_role("heading", name="各事项办理进度")).to_be_visible()
    application = BundleApplication.objects.get(applicant_user=parent)
    assert application.delivery_method == "wallet"
    progress_url = phone.url
    assert wait_until(
        lambda: child(application, "cert").state == ChildState.SUBMITTED, timeout=30
    ), logs()
    phone.goto(progress_url)
    steps = phone.locator(".bundle-steps")
    expect(steps).to_contain_text("已提交部门")
    expect(steps).to_contain_text("等待“出生医学证明办理”办结后自动提交")
    fits(phone)

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
    assert child(application, "cert").case.accepted_at is not None

    # then: the worker pushes each accepted child to the departments' system, which decides
    # and 办结 it through the answer API; the next child starts by itself, accepted at the same
    # window, until everything is concluded
    assert wait_until(
        lambda: (
            BundleApplication.objects.get(pk=application.pk).status == ApplicationStatus.CONCLUDED
        ),
        timeout=90,
        interval=0.25,
    ), logs()
    assert simulator.received_count() == 3
    cert, hukou = child(application, "cert"), child(application, "hukou")
    assert cert.case.result_data["certificate_no"] == CERTIFICATE_NO
    # the certificate number is in 出生登记's form, never typed by the parent
    assert personal.full_form(hukou.case)["birth_certificate_no"] == CERTIFICATE_NO
    assert hukou.case.accepted_at is not None
    assert hukou.case.result_data["hukou_no"] == "360100-0002"
    # the 出生医学证明 went to the wallet as soon as it was 办结, the others wait for the window
    assert wait_until(lambda: child(application, "cert").case.status == CaseStatus.DELIVERED)
    assert AuditEvent.objects.filter(action="bundles.result_to_wallet").count() == 1

    # then: the results are listed together
    phone.goto(progress_url)
    results = phone.locator("#results")
    for name in ("出生医学证明办理", "出生登记", "城乡居民医保参保登记"):
        expect(results).to_contain_text(name)
    licence = cert.case.result_data["licence"]["identifier"]
    expect(results).to_contain_text(licence)
    fits(phone)
    axe_clean(phone)

    # when: the window hands every other result over at once (统一出件)
    office.reload()
    office.get_by_role("button", name="统一出件（各子事项结果一并送达）").click()
    expect(office.get_by_role("status").first).to_contain_text("已统一出件")

    # then: the parent sees it, and finds the 出生医学证明 in the wallet
    phone.goto(progress_url)
    expect(phone.locator("#results")).to_contain_text("全部结果已于")
    fits(phone)
    phone.get_by_role("link", name="已存入证照夹").first.click()
    expect(phone.get_by_role("heading", level=1)).to_have_text("我的电子证照")
    expect(phone.locator(".licence-card__name")).to_have_text(["出生医学证明"])
    fits(phone)
    axe_clean(phone)
