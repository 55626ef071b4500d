"""The 好差评 part of ``loaddemo``: 12 months, every loop state, one upheld appeal."""

from io import StringIO

import pytest

from django.core.management import call_command
from django.urls import reverse

from apps.reviews.constants import RatingSource, TicketStatus
from apps.reviews.demo import load_reviews_demo
from apps.reviews.models import Rating, RectificationTicket, ReviewRollup, ServiceRecord

pytestmark = [pytest.mark.django_db, pytest.mark.slow]


@pytest.fixture(autouse=True)
def _loaders_up_to_this_app(demo_loaders_up_to) -> None:
    demo_loaders_up_to("apps.reviews.demo.load_reviews_demo")


def test_demo_has_twelve_months_every_loop_state_and_an_upheld_appeal(client) -> None:
    # (one test: loading the whole demo takes a while)
    call_command("loaddemo", stdout=StringIO())
    periods = set(ServiceRecord.objects.values_list("period", flat=True))
    assert len(periods) >= 12
    states = set(RectificationTicket.objects.values_list("status", flat=True))
    assert {
        TicketStatus.NEW,
        TicketStatus.VERIFYING,
        TicketStatus.RECTIFYING,
        TicketStatus.AWAITING_FEEDBACK,
        TicketStatus.CLOSED,
        TicketStatus.APPEALED,
        TicketStatus.APPEAL_UPHELD,
    } <= states
    assert Rating.objects.filter(is_excluded=True).count() == 1
    assert Rating.objects.filter(source=RatingSource.SYSTEM_DEFAULT).exists()
    total = sum(ReviewRollup.objects.filter(dimension="total").values_list("ratings", flat=True))
    assert (
        total
        == Rating.objects.filter(
            is_current=True, is_excluded=False, source=RatingSource.RATER
        ).count()
    )
    # idempotent
    assert load_reviews_demo(stdout=StringIO())["services_created"] == 0
    # the public page is alive
    html = client.get(reverse("reviews:index")).content.decode()
    assert "高峰时段增开综合窗口" in html
