"""The clerk's office: the staff sign-in, the home's work counts, the queue's default view and
the one-time notice issued at intake."""

from datetime import datetime

import pytest
import time_machine

from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from apps.cases import selectors
from apps.cases.constants import CaseStatus
from apps.cases.models import Case, SupplementNotice
from apps.identity.constants import StaffRole
from tests.cases.factories import FORM, case_in, citizen, clerk_of, item_version, reviewer_of
from tests.identity.factories import StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def at(*args: int) -> datetime:
    return timezone.make_aware(datetime(*args, 10))


@pytest.fixture
def calendar_2026() -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


@pytest.fixture
def desk(department, calendar_2026):
    version = item_version(department)
    clerk, reviewer = clerk_of(department), reviewer_of(department)

    def make(status: str, when: datetime) -> Case:
        with time_machine.travel(when, tick=False):
            return case_in(
                status, version=version, applicant=citizen(), clerk=clerk, reviewer=reviewer
            )

    # Promised limit: 5 working days, yellow 2 working days before the deadline.
    cases = {
        "overdue": make(CaseStatus.IN_REVIEW, at(2026, 10, 19)),
        "due_soon": make(CaseStatus.ACCEPTED, at(2026, 11, 2)),
        "old_submission": make(CaseStatus.SUBMITTED, at(2026, 11, 4)),
        "new_submission": make(CaseStatus.SUBMITTED, at(2026, 11, 5)),
        "supplemented": make(CaseStatus.SUPPLEMENTED, at(2026, 11, 5)),
        "awaiting": make(CaseStatus.AWAITING_SUPPLEMENT, at(2026, 11, 5)),
        "decided": make(CaseStatus.DECIDED, at(2026, 11, 3)),
        "completed": make(CaseStatus.COMPLETED, at(2026, 11, 3)),
    }
    return {"version": version, "clerk": clerk, "reviewer": reviewer, "cases": cases}


NOW = (2026, 11, 6)


def numbers_in_order(html: str, cases: dict[str, Case]) -> list[str]:
    found = [(html.find(case.number), name) for name, case in cases.items() if case.number in html]
    return [name for _position, name in sorted(found)]


# --- staff sign-in ---------------------------------------------------------------------------


def test_signed_out_office_leads_to_the_staff_sign_in_not_the_admin(client) -> None:
    # when
    home = client.get("/office/")
    queue = client.get("/office/cases/")
    handoffs = client.get("/office/handoffs/", follow=True)

    # then: the portal's own staff sign-in, returning to the page asked for
    assert home.status_code == 302
    assert home["Location"] == "/office/login/?next=/office/"
    assert queue["Location"] == "/office/login/?next=/office/cases/"
    assert handoffs.redirect_chain[-1][0] == "/office/login/?next=%2Foffice%2Fhandoffs%2F"
    assert "/admin/" not in home["Location"]


def test_staff_sign_in_page(client, django_assert_max_num_queries) -> None:
    # Queries: none (anonymous session, nothing stored yet).
    with django_assert_max_num_queries(0):
        page = client.get("/office/login/?next=/office/")

    # then
    html = page.content.decode()
    assert page.status_code == 200
    assert "工作人员登录" in html
    assert 'name="next" value="/office/"' in html
    assert 'class="side-nav"' not in html


def test_clerk_signs_in_and_lands_on_the_office_home(department) -> None:
    # given
    clerk = clerk_of(department)
    client = Client()

    # when: no ``next`` at all
    response = client.post(
        "/office/login/", {"username": clerk.username, "password": PASSWORD}, follow=True
    )

    # then
    assert response.redirect_chain[-1][0] == "/office/"
    assert response.status_code == 200
    assert "我的待办" in response.content.decode()


def test_citizen_at_the_staff_sign_in_is_sent_to_the_profile(department) -> None:
    # given
    person = citizen("赵六")
    client = Client()

    # when
    response = client.post(
        "/office/login/?next=/office/", {"username": person.username, "password": PASSWORD}
    )

    # then: no 403 page, the profile with a message
    assert response.status_code == 302
    assert response["Location"] == reverse("identity:profile")
    assert client.get("/office/").status_code == 403


# --- the office home --------------------------------------------------------------------------


def test_office_home_counts_the_clerks_work(desk, django_assert_max_num_queries) -> None:
    # given
    client = logged_in(desk["clerk"])

    # when
    # Queries: session, user, the user's staff memberships (is it a staff account), the
    # queue memberships, the four counts in one aggregate.
    with time_machine.travel(at(*NOW), tick=False), django_assert_max_num_queries(5):
        page = client.get("/office/")

    # then
    html = page.content.decode()
    counts = selectors.queue_counts(desk["clerk"])
    assert (counts.pending, counts.awaiting_supplement) == (3, 1)
    with time_machine.travel(at(*NOW), tick=False):
        counts = selectors.queue_counts(desk["clerk"])
    assert (counts.due_soon, counts.overdue) == (1, 1)
    assert 'href="/office/cases/?status=pending"' in html
    assert 'href="/office/cases/?status=awaiting_supplement"' in html
    assert 'href="/office/cases/?sla=yellow"' in html
    assert 'href="/office/cases/?sla=red"' in html
    assert '<span class="stat-tile__figure">3</span>' in html


def test_a_clerk_of_another_department_counts_none_of_it(desk, other_department) -> None:
    # given
    outsider = clerk_of(other_department)

    # when
    with time_machine.travel(at(*NOW), tick=False):
        counts = selectors.queue_counts(outsider)
        queue = logged_in(outsider).get("/office/cases/", {"status": "live"})

    # then
    assert (counts.pending, counts.awaiting_supplement, counts.due_soon, counts.overdue) == (
        0,
        0,
        0,
        0,
    )
    assert numbers_in_order(queue.content.decode(), desk["cases"]) == []


def test_counts_follow_the_hall_scope(department, calendar_2026) -> None:
    # given: a clerk at hall A and a walk-in received at hall B
    from apps.cases import services
    from apps.core.models import ServiceHall

    version = item_version(department)
    halls = [
        ServiceHall.objects.create(
            name=f"{code}中心", code=code, region=department.region, level=3, address="南昌"
        )
        for code in ("HA", "HB")
    ]
    clerk_a, clerk_b = (
        StaffMembershipFactory(department=department, role=StaffRole.CLERK, hall=hall)
        for hall in halls
    )
    services.create_window_case(
        clerk=clerk_b.user,
        version=version,
        applicant_user=citizen(),
        form_data=FORM,
        received_keys=["id-card"],
        accept=False,
        hall=clerk_b.hall,
    )

    # then: hall B's clerk counts it, hall A's does not
    assert selectors.queue_counts(clerk_b.user).pending == 1
    assert selectors.queue_counts(clerk_a.user).pending == 0


def test_calendar_warning_only_for_those_who_can_load_holidays(desk) -> None:
    # given: no arrangement for next year; a clerk, and a staff user allowed to load it
    from apps.core import calendar
    from apps.core.models import CalendarYear

    CalendarYear.objects.filter(year__gt=2025).delete()
    calendar.invalidate_calendar()
    manager = UserFactory(staff=True)
    manager.user_permissions.add(Permission.objects.get(codename="change_calendaryear"))

    # when
    clerk_page = logged_in(desk["clerk"]).get("/office/").content.decode()
    manager_page = logged_in(manager).get("/office/").content.decode()

    # then: the clerk sees their work and no button that would answer 403
    assert "工作日历需要处理" not in clerk_page
    assert "/admin/core/calendaryear/" not in clerk_page
    assert "工作日历需要处理" in manager_page
    assert 'href="/admin/core/calendaryear/"' in manager_page
    # a platform administrator without a queue gets no counts
    assert "我的待办" not in manager_page


# --- the queue --------------------------------------------------------------------------------


def test_queue_default_is_what_needs_the_clerk_most_urgent_first(
    desk, django_assert_max_num_queries
) -> None:
    # given
    client = logged_in(desk["clerk"])

    # when
    # Queries: session, user, the clerk's departments (staff_required), the queue memberships,
    # one page of cases joined with item version and department.
    with time_machine.travel(at(*NOW), tick=False), django_assert_max_num_queries(5):
        page = client.get("/office/cases/")

    # then: 待受理 only (not decided/completed, not the applicant's turn), oldest window first
    assert numbers_in_order(page.content.decode(), desk["cases"]) == [
        "old_submission",
        "new_submission",
        "supplemented",
    ]


def test_department_admin_default_adds_running_cases_by_deadline(desk, department) -> None:
    # given
    admin = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user

    # when
    with time_machine.travel(at(*NOW), tick=False):
        html = logged_in(admin).get("/office/cases/").content.decode()

    # then: the overdue one first, then by the date someone must act
    assert numbers_in_order(html, desk["cases"]) == [
        "overdue",
        "due_soon",
        "old_submission",
        "new_submission",
        "supplemented",
    ]


def test_other_queue_views_stay_reachable(desk) -> None:
    # given
    client = logged_in(desk["clerk"])

    # when
    with time_machine.travel(at(*NOW), tick=False):
        live = client.get("/office/cases/", {"status": "live"}).content.decode()
        decided = client.get("/office/cases/", {"status": "decided"}).content.decode()
        awaiting = client.get("/office/cases/", {"status": "awaiting_supplement"})
        red = client.get("/office/cases/", {"sla": "red"}).content.decode()
        yellow = client.get("/office/cases/", {"sla": "yellow"}).content.decode()

    # then
    assert set(numbers_in_order(live, desk["cases"])) == set(desk["cases"])
    assert numbers_in_order(decided, desk["cases"]) == ["decided"]
    assert numbers_in_order(awaiting.content.decode(), desk["cases"]) == ["awaiting"]
    assert numbers_in_order(red, desk["cases"]) == ["overdue"]
    assert numbers_in_order(yellow, desk["cases"]) == ["due_soon"]
    assert '<option value="live" selected>' in live


# --- 一次性告知书 at intake -------------------------------------------------------------------


def _identify(client: Client, person) -> None:
    client.post(
        reverse("office-cases:intake"),
        {"step": "identify", "id_number": person.person.id_number, "name": person.person.name},
    )


def test_intake_issues_the_one_time_notice_for_missing_materials(
    department, calendar_2026, django_assert_max_num_queries
) -> None:
    # given: the applicant brought the application form but not the ID card copy
    version = item_version(department)
    clerk = clerk_of(department)
    applicant = citizen("王五")
    client = logged_in(clerk)
    _identify(client, applicant)
    url = reverse("office-cases:intake")

    # when
    response = client.post(
        url,
        {
            "step": "notice",
            "item": version.implementation_code,
            "received": ["application"],
            "reason_application": "缺少申请人签名",
            "due_days": "5",
            "due_unit": "G",
            "note": "请一次带齐",
            **FORM,
            "agree": "on",
        },
    )

    # then: received, one notice listing both, printable
    case = Case.objects.get(applicant_user=applicant)
    notice = SupplementNotice.objects.get(case=case)
    assert case.status == CaseStatus.AWAITING_SUPPLEMENT
    assert case.channel == "window"
    assert [(i["key"], i["reason"]) for i in notice.items] == [
        ("id-card", "未提交该材料"),
        ("application", "缺少申请人签名"),
    ]
    assert (notice.due_days, notice.note, notice.issued_by) == (5, "请一次带齐", clerk)
    assert list(case.events.values_list("action", flat=True)) == [
        "draft_created",
        "submit",
        "request_supplement",
    ]
    assert response.status_code == 302
    assert response["Location"] == reverse("office-cases:notice", args=[case.pk, "supplement"])
    # Queries: session, user, staff memberships, the case, the latest notice.
    with django_assert_max_num_queries(6):
        printed = client.get(response["Location"]).content.decode()
    assert "补正材料一次性告知书" in printed
    assert "data-print" in printed
    assert "缺少申请人签名" in printed
    assert "<script>" not in printed
    assert 'style="' not in printed


def test_intake_notice_refused_when_nothing_is_missing_keeps_the_input(
    department, calendar_2026, django_assert_max_num_queries
) -> None:
    # given
    version = item_version(department)
    client = logged_in(clerk_of(department))
    _identify(client, citizen("王五"))

    # when: everything ticked, no note: nothing to tell
    # Queries: session, user, staff memberships, the intake applicant, the clerk's items, the
    # item's materials (list check, reasons, page), the form's schema lookups; the page.
    with django_assert_max_num_queries(16):
        page = client.post(
            reverse("office-cases:intake"),
            {
                "step": "notice",
                "item": version.implementation_code,
                "received": ["id-card", "application"],
                "due_days": "7",
                "note": "备注",
                **FORM,
                "agree": "on",
            },
        )

    # then: a Chinese message, nothing written, the typed values kept
    html = page.content.decode()
    assert page.status_code == 200
    assert "必要材料已齐全" in html
    assert Case.objects.count() == 0
    assert 'name="due_days" value="7"' in html
    assert "备注</textarea>" in html
    assert 'name="received" value="id-card" checked' in html


def test_intake_page_query_count(department, django_assert_max_num_queries) -> None:
    # given
    version = item_version(department)
    client = logged_in(clerk_of(department))
    _identify(client, citizen("王五"))

    # Queries: session, user, staff memberships, the intake applicant (user), the clerk's
    # departments, the clerk's items, the item's materials; the session save.
    with django_assert_max_num_queries(10):
        page = client.get(reverse("office-cases:intake"), {"item": version.implementation_code})

    # then
    html = page.content.decode()
    assert 'value="notice"' in html
    assert 'name="reason_id-card"' in html
