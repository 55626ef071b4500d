"""Office screens: tickets, appeals, window services, statistics and CSV (scoped; pinned)."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from django.urls import reverse

from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.constants import AppealStatus, Grade, TicketStatus
from apps.reviews.models import Appeal, RectificationTicket, ServiceRecord
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory, verified_user
from tests.reviews.factories import BAD_REASON, WindowFactory, authority, clerk_at, window_service

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def ticket(department):
    person = verified_user("李娜")
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=TZ), tick=False):
        service = window_service(department, served_user=person)
        rating = services.rate_by_token(
            token=services.pad_token(service),
            grade=Grade.DISSATISFIED,
            options=[BAD_REASON],
            comment="电话 13600001111",
        )
    return rating.ticket


def test_department_staff_work_the_ticket_on_its_page(
    client, ticket, department, django_assert_max_num_queries
) -> None:
    worker = StaffMembershipFactory(department=department, role=StaffRole.REVIEWER).user
    client.force_login(worker)
    # session, user, memberships (scope), ticket with follow-ups and appeals, page memberships
    with django_assert_max_num_queries(12):
        page = client.get(reverse("reviews_office:ticket", args=[ticket.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "李娜" not in html
    assert "13600001111" not in html
    client.post(
        reverse("reviews_office:ticket_action", args=[ticket.pk, "follow_up"]),
        {"channel": "phone", "result": "reached", "note": "已联系"},
    )
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.VERIFYING


def test_another_department_gets_404_and_changes_nothing(client, ticket) -> None:
    outsider = StaffMembershipFactory(department=DepartmentFactory(), role=StaffRole.DEPT_ADMIN)
    client.force_login(outsider.user)
    assert client.get(reverse("reviews_office:ticket", args=[ticket.pk])).status_code == 404
    response = client.post(
        reverse("reviews_office:ticket_action", args=[ticket.pk, "follow_up"]),
        {"channel": "phone", "result": "reached"},
    )
    assert response.status_code == 404
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.NEW


def test_authority_decides_an_appeal_on_its_page_and_the_department_cannot(
    client, ticket, department
) -> None:
    head = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    with time_machine.travel(datetime(2026, 3, 3, 10, 0, tzinfo=TZ), tick=False):
        appeal = services.file_appeal(
            ticket_id=ticket.pk, user=head, ground="test", statement="测试评价", evidence="日志"
        )
    url = reverse("reviews_office:appeal", args=[appeal.pk])
    client.force_login(head)
    assert client.post(url, {"decision": "upheld", "note": "x"}).status_code == 404
    client.force_login(authority("360000"))
    response = client.post(url, {"decision": "upheld", "note": "确属测试"})
    assert response.status_code == 302
    assert Appeal.objects.get().status == AppealStatus.UPHELD


def test_clerk_gets_the_pad_link_and_qr_for_a_finished_service(client, department) -> None:
    window = WindowFactory(departments=[department])
    clerk = clerk_at(window, department)
    client.force_login(clerk)
    membership = clerk.memberships.get()
    response = client.post(
        reverse("reviews_office:window_service"),
        {"membership": membership.pk, "summary": "社保卡补办"},
    )
    html = response.content.decode()
    assert "/office/reviews/pad/" in html
    assert "<svg" in html
    assert ServiceRecord.objects.get().staff == clerk


def test_stats_page_and_csv_for_the_authority_carry_no_personal_data(
    client, ticket, django_assert_max_num_queries
) -> None:
    client.force_login(authority("360000"))
    with time_machine.travel(datetime(2026, 3, 20, 10, 0, tzinfo=TZ)):
        with django_assert_max_num_queries(14):
            page = client.get(reverse("reviews_office:stats"))
        export = client.get(reverse("reviews_office:stats_csv"))
    text = export.content.decode("utf-8-sig")
    assert page.status_code == 200
    assert "<svg" in page.content.decode()
    assert text.splitlines()[0].startswith("维度,名称,服务数")
    assert "2026-03" in text
    for secret in ("李娜", "13600001111"):
        assert secret not in text
        assert secret not in page.content.decode()


def test_stats_page_is_not_for_citizens(client) -> None:
    client.force_login(verified_user("王芳"))
    assert client.get(reverse("reviews_office:stats")).status_code == 404


def test_rater_reads_the_rectification_and_answers(client, ticket, department) -> None:
    worker = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    services.record_follow_up(ticket_id=ticket.pk, user=worker, channel="phone", result="reached")
    services.start_rectification(ticket_id=ticket.pk, user=worker, finding="属实")
    services.record_rectification(ticket_id=ticket.pk, user=worker, measures="培训", result="已改")
    client.force_login(ticket.rating.rater)
    url = reverse("reviews:feedback", args=[ticket.pk])
    assert "培训" in client.get(url).content.decode()
    client.post(url, {"answer": "satisfied"})
    assert RectificationTicket.objects.get().status == TicketStatus.CLOSED
