"""Pages: the case page panel, the hall pad, the public disclosure (queries pinned; privacy)."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from django.urls import reverse

from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.constants import FollowUpChannel, FollowUpResult, Grade
from apps.reviews.models import Rating
from tests.identity.factories import StaffMembershipFactory
from tests.reviews.factories import BAD_REASON, ONLINE_BAD_REASON, window_service

TZ = ZoneInfo("Asia/Shanghai")


def test_case_page_shows_the_rating_form_and_the_applicant_rates(client, completed_case) -> None:
    # given
    client.force_login(completed_case.acting_user)
    url = reverse("cases:detail", args=[completed_case.pk])
    # when
    page = client.get(url)
    response = client.post(
        reverse("reviews:case_rate", args=[completed_case.pk]),
        {"grade": Grade.VERY_DISSATISFIED, "options": [ONLINE_BAD_REASON], "comment": "太慢"},
    )
    # then
    assert "服务评价（好差评）" in page.content.decode()
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert (rating.grade, rating.rater) == (Grade.VERY_DISSATISFIED, completed_case.acting_user)
    assert "您可以追加一次评价" in client.get(url).content.decode()


def test_rating_a_case_with_bad_input_changes_nothing(client, completed_case) -> None:
    client.force_login(completed_case.acting_user)
    response = client.post(
        reverse("reviews:case_rate", args=[completed_case.pk]), {"grade": "great"}, follow=True
    )
    assert "请选择满意度" in response.content.decode()
    assert not Rating.objects.exists()


def test_pad_page_needs_no_login_and_takes_one_rating(
    client, department, django_assert_max_num_queries
) -> None:
    # given
    service = window_service(department)
    url = reverse("reviews_office:pad", args=[services.pad_token(service)])
    # when
    # (the service by token, the offline indicator set with indicators and options)
    with django_assert_max_num_queries(5):
        page = client.get(url)
    first = client.post(url, {"grade": Grade.DISSATISFIED, "options": [BAD_REASON]})
    again = client.post(url, {"grade": Grade.VERY_SATISFIED})
    # then
    assert page.status_code == 200
    assert "评价已提交" in first.content.decode()
    assert again.status_code == 400
    assert "已使用或已失效" in again.content.decode()
    assert Rating.objects.get().channel == "hall_pad"


@pytest.fixture
def rectified_case(completed_case):
    """A 非常不满意 with a phone number in the text, followed up and rectified."""
    applicant = completed_case.acting_user
    rating = services.rate_case(
        case_id=completed_case.pk,
        user=applicant,
        grade=Grade.VERY_DISSATISFIED,
        options=[ONLINE_BAD_REASON],
        comment="请回电 13912345678，身份证11010519491231002X",
        is_anonymous=False,
    )
    worker = StaffMembershipFactory(
        department=completed_case.department, role=StaffRole.REVIEWER
    ).user
    services.record_follow_up(
        ticket_id=rating.ticket.pk,
        user=worker,
        channel=FollowUpChannel.PHONE,
        result=FollowUpResult.REACHED,
    )
    services.start_rectification(ticket_id=rating.ticket.pk, user=worker, finding="材料要求不清")
    services.record_rectification(
        ticket_id=rating.ticket.pk, user=worker, measures="修订办事指南", result="指南已更新"
    )
    return completed_case


def test_public_page_shows_figures_rankings_and_rectified_reviews_without_identity(
    client, rectified_case, django_assert_max_num_queries
) -> None:
    # when (1 totals, 1 monthly, 2 department ranking + names, 2 hall ranking + names,
    # 1 rectified tickets, plus session/user lookups of the portal base)
    with django_assert_max_num_queries(10):
        response = client.get(reverse("reviews:index"))
    # then
    html = response.content.decode()
    assert response.status_code == 200
    assert "修订办事指南" in html
    assert "指南已更新" in html
    assert rectified_case.department.name in html
    assert "<svg" in html
    assert not re.search(r"\sstyle=", html)  # CSP: no inline style
    assert not re.search(r"<script(?![^>]*\ssrc=)", html)  # CSP: no inline script
    applicant = rectified_case.acting_user
    person = applicant.person
    for secret in (
        person.name,
        applicant.username,
        "13912345678",
        "11010519491231002X",
        person.id_number,
    ):
        assert secret not in html


def test_public_page_query_count_does_not_grow_with_ratings(
    client, department, django_assert_num_queries
) -> None:
    with time_machine.travel(datetime(2026, 3, 2, 10, 0, tzinfo=TZ), tick=False):
        for _ in range(3):
            s = window_service(department)
            services.rate_by_token(token=services.pad_token(s), grade=Grade.SATISFIED)
    client.get(reverse("reviews:index"))  # warm the calendar/cache
    with django_assert_num_queries(7):
        client.get(reverse("reviews:index"))
    for _ in range(5):
        s = window_service(department)
        services.rate_by_token(token=services.pad_token(s), grade=Grade.SATISFIED)
    with django_assert_num_queries(7):
        client.get(reverse("reviews:index"))
