"""Every citizen page on a phone, and the citizen and office pages under axe-core.

At 390 × 844 (a common phone) each page must fit the screen — the document is never wider
than the viewport — and axe-core must report no violation and no colour-contrast result it
could not decide ("needs review"): such a result is resolved by giving the text a background
axe can read (a flat colour, not a gradient or an image), never by excluding the element.

axe-core is vendored in tests/e2e/vendor (MPL-2.0, see the README there) and evaluated in the
page through the DevTools protocol, so the pages keep their strict Content-Security-Policy.
Each test walks many pages and reports every problem at once rather than stopping at the
first. The same pages are walked again at a desktop size (1280 × 800), where the wider layouts
(side-by-side columns, tables instead of cards) are the ones axe sees.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, Page

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.identity.constants import StaffRole
from tests.cases.factories import case_in, citizen, item_version, reviewer_of
from tests.identity.factories import StaffMembershipFactory, UserFactory
from tests.licences.factories import person_licence

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.usefixtures("transactional_db")]

PASSWORD = "correct-horse-battery"  # the factories' password (tests/e2e/conftest.py)
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
AXE_SOURCE = (Path(__file__).resolve().parent / "vendor" / "axe.min.js").read_text()

# Violations of every rule axe runs by default (WCAG 2.1 A/AA and best practices), and the
# colour-contrast checks axe could not decide.
AXE_RUN = """async () => {
  const result = await axe.run(document, {resultTypes: ['violations', 'incomplete']});
  const nodes = (rule) => rule.nodes.slice(0, 5).map((node) => ({
    target: node.target.join(' '),
    why: (node.failureSummary || (node.any[0] || {}).message || '').slice(0, 300),
  }));
  return {
    violations: result.violations.map((rule) => ({id: rule.id, nodes: nodes(rule)})),
    undecided: result.incomplete
      .filter((rule) => rule.id === 'color-contrast')
      .map((rule) => ({id: rule.id, nodes: nodes(rule)})),
  };
}"""

# The elements that stick out past the right edge, to say where an overflow comes from.
WIDE_ELEMENTS = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll('body *')]
    .filter((el) => el.getBoundingClientRect().right > width + 0.5)
    .slice(0, 5)
    .map((el) => `${el.tagName.toLowerCase()}.${[...el.classList].join('.')}`);
}"""


@dataclass
class Portal:
    code: str
    name: str
    citizen: Any
    clerk: Any
    cases: dict[str, Case]
    licence_pk: int


@pytest.fixture
def portal(transactional_db, department) -> Portal:
    """One item, a citizen with cases in the states a citizen meets, a licence, a clerk."""
    from apps.core import calendar
    from apps.core.services import seed_calendar
    from apps.licences.seed import ensure_seed_catalogue

    # Idempotent; only needed when the first test of a --reuse-db run meets a flushed database.
    ensure_seed_catalogue()
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()
    version = item_version(department)
    applicant, reviewer = citizen(), reviewer_of(department)
    clerk = StaffMembershipFactory(
        department=department, role=StaffRole.CLERK, user=UserFactory(staff=True)
    ).user
    cases = {
        status: case_in(
            status, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer
        )
        for status in (
            CaseStatus.DRAFT,
            CaseStatus.SUBMITTED,
            CaseStatus.AWAITING_SUPPLEMENT,
            CaseStatus.NOT_ACCEPTED,
            CaseStatus.ACCEPTED,
            CaseStatus.COMPLETED,
        )
    }
    licence = person_licence(department, holder=applicant)
    return Portal(
        code=version.implementation_code,
        name=version.name,
        citizen=applicant,
        clerk=clerk,
        cases=cases,
        licence_pk=licence.pk,
    )


@pytest.fixture
def phone(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(
        locale="zh-CN", viewport=PHONE, timezone_id="Asia/Shanghai", is_mobile=True
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


@pytest.fixture
def desktop(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="zh-CN", viewport=DESKTOP, timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()


def problems_on(page: Page, base: str, path: str, *, axe: bool = True) -> list[str]:
    """What is wrong with one page at the page's width: status, overflow, axe findings."""
    response = page.goto(base + path)
    found: list[str] = []
    if response is None or response.status != 200:
        return [f"{path}: HTTP {response.status if response else 'no response'}"]
    if urlsplit(page.url).path != urlsplit(path).path:
        return [f"{path}: redirected to {page.url}"]
    scroll_width, viewport = page.evaluate(
        "() => [document.documentElement.scrollWidth, window.innerWidth]"
    )
    if scroll_width > viewport:
        wide = ", ".join(page.evaluate(WIDE_ELEMENTS))
        found.append(f"{path}: {scroll_width}px wide at {viewport}px ({wide})")
    if axe:
        page.evaluate(AXE_SOURCE)
        result = page.evaluate(AXE_RUN)
        for kind in ("violations", "undecided"):
            for rule in result[kind]:
                nodes = json.dumps(rule["nodes"], ensure_ascii=False)
                found.append(f"{path}: axe {kind} {rule['id']} {nodes}")
    return found


def sign_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/accounts/login/")
    page.get_by_label("用户名或手机号码").fill(username)
    page.get_by_label("密码", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="登录", exact=True).click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def citizen_paths(portal: Portal) -> list[str]:
    case = {status: c.pk for status, c in portal.cases.items()}
    return [
        "/cases/mine/",
        f"/cases/apply/{portal.code}/",
        f"/cases/{case[CaseStatus.DRAFT]}/",
        f"/cases/{case[CaseStatus.SUBMITTED]}/",
        f"/cases/{case[CaseStatus.AWAITING_SUPPLEMENT]}/",
        f"/cases/{case[CaseStatus.AWAITING_SUPPLEMENT]}/notice/supplement/",
        f"/cases/{case[CaseStatus.NOT_ACCEPTED]}/",
        f"/cases/{case[CaseStatus.NOT_ACCEPTED]}/notice/not-accepted/",
        f"/cases/{case[CaseStatus.ACCEPTED]}/",
        f"/cases/{case[CaseStatus.ACCEPTED]}/notice/acceptance/",
        f"/cases/{case[CaseStatus.COMPLETED]}/",
        "/accounts/profile/",
        "/accounts/service-code/",
        "/licences/",
        f"/licences/{portal.licence_pk}/",
        "/licences/authorisations/",
        "/messages/",
        "/messages/preferences/",
        "/bundles/mine/",
    ]


def public_paths(portal: Portal) -> list[str]:
    return [
        "/",
        "/catalog/",
        "/catalog/?event=birth",
        f"/catalog/search/?q={portal.name}",
        "/catalog/search/?q=没有这样的事项",
        f"/catalog/items/{portal.code}/",
        "/accounts/login/",
        "/accounts/register/",
        "/reviews/",
        "/licences/verify/",
        "/accounts/password-reset/",
        "/office/login/",
        "/bundles/",
        "/marketplace/",
        "/marketplace/services/",
        "/marketplace/agencies/",
        "/marketplace/blacklist/",
    ]


def test_every_citizen_page_fits_a_phone_and_passes_axe(
    live_server, phone: Page, portal: Portal
) -> None:
    # given
    base = live_server.url
    problems: list[str] = []

    # when: the public pages, then the signed-in citizen's pages
    for path in public_paths(portal):
        problems += problems_on(phone, base, path)
    sign_in(phone, base, portal.citizen.username)
    for path in citizen_paths(portal):
        problems += problems_on(phone, base, path)

    # then
    assert problems == [], "\n".join(problems)


def test_elder_mode_pages_fit_a_phone_and_pass_axe(
    live_server, phone: Page, portal: Portal
) -> None:
    # given: 长辈模式 on (larger text makes long values and labels wider)
    base = live_server.url
    phone.goto(base + "/")
    phone.get_by_role("button", name="长辈模式").click()
    phone.wait_for_selector("body.elder")
    sign_in(phone, base, portal.citizen.username)
    awaiting = portal.cases[CaseStatus.AWAITING_SUPPLEMENT].pk
    paths = [
        "/",
        f"/catalog/search/?q={portal.name}",
        f"/catalog/items/{portal.code}/",
        "/cases/mine/",
        f"/cases/apply/{portal.code}/",
        f"/cases/{awaiting}/",
        f"/cases/{portal.cases[CaseStatus.COMPLETED].pk}/",
        "/accounts/profile/",
        "/licences/",
    ]

    # when
    problems = [problem for path in paths for problem in problems_on(phone, base, path)]

    # then
    assert phone.locator("body.elder").count() == 1
    assert problems == [], "\n".join(problems)


def office_paths(portal: Portal) -> list[str]:
    submitted = portal.cases[CaseStatus.SUBMITTED].pk
    return [
        "/office/",
        "/office/cases/",
        "/office/cases/?scope=all",
        f"/office/intake/?item={portal.code}",
        f"/office/cases/{submitted}/",
        f"/office/cases/{portal.cases[CaseStatus.AWAITING_SUPPLEMENT].pk}/",
        f"/office/cases/{portal.cases[CaseStatus.COMPLETED].pk}/",
        "/office/intake/",
        "/office/identify/",
    ]


def identified_intake_problems(page: Page, base: str, portal: Portal) -> list[str]:
    """一窗受理 with the applicant identified (重新识别, the item form, the paper materials to
    tick and the one-time notice's fields are on the page only then)."""
    page.goto(f"{base}/office/intake/")
    page.get_by_label("身份证号码").fill(portal.citizen.person.id_number)
    page.get_by_label("姓名").fill(portal.citizen.person.name)
    page.get_by_role("button", name="核验身份").click()
    page.get_by_role("button", name="重新识别").wait_for()
    return problems_on(page, base, f"/office/intake/?item={portal.code}")


def panels_open_problems(page: Page, base: str, portal: Portal) -> list[str]:
    """The clerk opens every action panel of a new case: their controls are checked too."""
    submitted = portal.cases[CaseStatus.SUBMITTED].pk
    page.goto(f"{base}/office/cases/{submitted}/")
    for summary in page.locator("details > summary").all():
        summary.click()
    page.evaluate(AXE_SOURCE)
    result = page.evaluate(AXE_RUN)
    return [
        f"/office/cases/{submitted}/ (panels open): axe {kind} {rule['id']}"
        for kind in ("violations", "undecided")
        for rule in result[kind]
    ]


def test_office_pages_fit_a_phone_and_pass_axe(live_server, phone: Page, portal: Portal) -> None:
    # given: the window clerk of the item's department
    base = live_server.url
    sign_in(phone, base, portal.clerk.username)

    # when
    problems = [
        problem for path in office_paths(portal) for problem in problems_on(phone, base, path)
    ]
    problems += panels_open_problems(phone, base, portal)
    problems += identified_intake_problems(phone, base, portal)

    # then
    assert problems == [], "\n".join(problems)


def test_every_citizen_and_office_page_passes_axe_at_desktop_width(
    live_server, desktop: Page, portal: Portal
) -> None:
    # given
    base = live_server.url
    problems: list[str] = []

    # when: the public pages, the signed-in citizen's pages, then the clerk's in a new context
    for path in public_paths(portal):
        problems += problems_on(desktop, base, path)
    sign_in(desktop, base, portal.citizen.username)
    for path in citizen_paths(portal):
        problems += problems_on(desktop, base, path)
    desktop.context.clear_cookies()
    sign_in(desktop, base, portal.clerk.username)
    for path in office_paths(portal):
        problems += problems_on(desktop, base, path)
    problems += panels_open_problems(desktop, base, portal)
    problems += identified_intake_problems(desktop, base, portal)

    # then
    assert problems == [], "\n".join(problems)


def more_page_kinds(portal: Portal, department: Any) -> tuple[list[str], list[str]]:
    """Public and signed-in pages beyond the spine's: the decision document, a message, the
    L3 page, a bundle's guide / form / progress, the marketplace's agency, project and forms,
    and the rating page a person served at a window opens from the QR code (or the hall pad)."""
    from apps.bundles import services as bundle_services
    from apps.notifications.models import Notification
    from tests.bundles.factories import FORM as BUNDLE_FORM
    from tests.bundles.factories import files_for, published_birth_bundle
    from tests.marketplace.factories import (
        IntermediaryServiceFactory,
        listed_agency,
        published_project,
    )

    bundle = published_birth_bundle(department)
    application = bundle_services.submit_bundle_application(
        user=portal.citizen,
        version_id=bundle.pk,
        answers={"needs_ssc": "no"},
        form_data=BUNDLE_FORM,
        files=files_for(bundle),
    )
    service = IntermediaryServiceFactory()
    agency = listed_agency(service)
    project = published_project(service)
    from apps.reviews.services import pad_token
    from tests.reviews.factories import window_service

    token = pad_token(window_service(department))
    message = Notification.objects.filter(recipient=portal.citizen).order_by("pk").first()
    assert message is not None, "the fixture's cases told the citizen nothing"
    code = bundle.bundle.code
    public = [
        f"/bundles/{code}/",
        f"/bundles/{code}/?needs_ssc=yes",
        f"/marketplace/agencies/{agency.pk}/",
        f"/marketplace/projects/{project.pk}/",
        f"/reviews/r/{token}/",
        f"/office/reviews/pad/{token}/",
    ]
    signed_in = [
        f"/cases/{portal.cases[CaseStatus.COMPLETED].pk}/notice/decision/",
        f"/messages/{message.pk}/",
        "/accounts/profile/level3/",
        f"/bundles/{code}/apply/?needs_ssc=no",
        f"/bundles/applications/{application.pk}/",
        "/marketplace/agencies/join/",
        "/marketplace/projects/new/",
    ]
    return public, signed_in


def test_more_citizen_page_kinds_fit_a_phone_and_pass_axe_at_both_sizes(
    live_server, phone: Page, desktop: Page, portal: Portal, department
) -> None:
    # given
    base = live_server.url
    public, signed_in = more_page_kinds(portal, department)
    problems: list[str] = []

    # when: at phone and desktop width
    for page, size in ((phone, "phone"), (desktop, "desktop")):
        for path in public:
            problems += [f"[{size}] {p}" for p in problems_on(page, base, path)]
        sign_in(page, base, portal.citizen.username)
        for path in signed_in:
            problems += [f"[{size}] {p}" for p in problems_on(page, base, path)]

    # then
    assert problems == [], "\n".join(problems)


def test_other_office_screens_pass_axe_at_both_sizes(
    live_server, phone: Page, desktop: Page, portal: Portal, department
) -> None:
    # given: the department's administrator (the screens of the apps beside cases)
    admin = StaffMembershipFactory(
        department=department, role=StaffRole.DEPT_ADMIN, user=UserFactory(staff=True)
    ).user
    base = live_server.url
    paths = [
        "/office/bundles/",
        "/office/reviews/",
        "/office/reviews/stats/",
        "/office/handoffs/",
        f"/office/handoffs/endpoint/{department.pk}/",
        "/office/reveal-grants/",
        "/office/licences/show/",
    ]
    problems: list[str] = []

    # when
    for page, size in ((phone, "phone"), (desktop, "desktop")):
        sign_in(page, base, admin.username)
        for path in paths:
            problems += [f"[{size}] {p}" for p in problems_on(page, base, path)]

    # then
    assert problems == [], "\n".join(problems)
