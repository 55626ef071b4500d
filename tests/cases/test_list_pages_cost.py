"""My cases and the clerk queue cost the same few queries for a page of 2 cases and a full page
of 20 (STYLE.md Q8), and show each row's status, channel and time limit."""

import pytest

from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from apps.cases.constants import CaseStatus
from apps.cases.views.portal import PAGE_SIZE
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

pytestmark = pytest.mark.django_db

STATES = (CaseStatus.SUBMITTED, CaseStatus.ACCEPTED, CaseStatus.IN_REVIEW, CaseStatus.DECIDED)


@pytest.fixture
def calendar_2026() -> None:
    from apps.core import calendar
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


def _logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _queries(client: Client, url: str, pin, most: int) -> tuple[int, str]:
    """Queries of a repeated visit (the session and the unread count cached by the first)."""
    client.get(url)
    with pin(most), CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries), response.content.decode()


def test_my_cases_and_the_queue_cost_the_same_for_few_and_a_full_page(
    department, calendar_2026, django_assert_max_num_queries
) -> None:
    # given: an applicant with 2 cases, another with a full page of them
    version = item_version(department)
    clerk, reviewer = clerk_of(department), reviewer_of(department)
    few, many = citizen("甲"), citizen("乙")
    for n, applicant in ((2, few), (PAGE_SIZE + 1, many)):
        for i in range(n):
            case_in(
                STATES[i % len(STATES)],
                version=version,
                applicant=applicant,
                clerk=clerk,
                reviewer=reviewer,
            )
    cache.clear()
    counts = []
    # when / then: my cases: the user (the session is cached), the enterprises the person
    # represents, the page of cases with their items and departments
    for applicant, rows in ((few, 2), (many, PAGE_SIZE)):
        count, html = _queries(
            _logged_in(applicant), reverse("cases:mine"), django_assert_max_num_queries, 3
        )
        assert html.count('data-testid="case-row"') == rows
        assert "已受理" in html or "审查中" in html
        counts.append(count)
    assert counts[0] == counts[1]
    # the clerk's queue (every live case of the department): the user (the session is
    # cached), the staff memberships (read once for the access check and the queue's scope),
    # the page; nothing per row
    url = reverse("office-cases:queue") + "?status=live"
    _, html = _queries(_logged_in(clerk), url, django_assert_max_num_queries, 3)
    assert html.count('data-testid="case-row"') == 2 + PAGE_SIZE + 1  # none done yet
    assert "网上申报" in html
