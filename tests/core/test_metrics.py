"""Issue 15 §6: /metrics for Prometheus, reachable only from configured addresses or with the
bearer token, with latency by route pattern, queue depths, handoffs, cases past their SLA."""

from datetime import datetime, timedelta

import pytest
import time_machine
from prometheus_client.parser import text_string_to_metric_families

from django.test import Client
from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.core import calendar
from apps.core.services import seed_calendar
from apps.handoffs.constants import HandoffState
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.handoffs.factories import HandoffFactory

pytestmark = pytest.mark.django_db
TOKEN = "scrape-token-for-tests"


@pytest.fixture(autouse=True)
def _metrics_settings(settings) -> None:
    settings.METRICS_ALLOWED_NETWORKS = ["10.20.0.0/16"]
    settings.METRICS_TOKEN = TOKEN


def scrape(client: Client | None = None, **extra) -> dict[tuple[str, tuple], float]:
    response = (client or Client()).get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}", **extra)
    assert response.status_code == 200
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


@pytest.mark.parametrize(
    ("_case", "headers", "expected"),
    [
        ("anonymous from the internet", {"REMOTE_ADDR": "203.0.113.9"}, 404),
        ("anonymous from loopback (a reverse proxy)", {"REMOTE_ADDR": "127.0.0.1"}, 404),
        ("a configured scraper address", {"REMOTE_ADDR": "10.20.3.4"}, 200),
        ("the right token", {"HTTP_AUTHORIZATION": f"Bearer {TOKEN}"}, 200),
        ("a wrong token", {"HTTP_AUTHORIZATION": "Bearer guess"}, 403),
        (
            "a wrong token from a configured address",
            {"REMOTE_ADDR": "10.20.3.4", "HTTP_AUTHORIZATION": "Bearer guess"},
            403,
        ),
    ],
)
def test_who_may_read_metrics(_case, headers, expected) -> None:
    assert Client().get("/metrics", **headers).status_code == expected


def test_no_token_configured_means_no_token_opens_it(settings) -> None:
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_latency_is_labelled_by_route_pattern_not_raw_path() -> None:
    # given two requests to one route with different codes
    client = Client()
    client.get("/api/v1/catalog/items/CODE-ONE/")
    client.get("/api/v1/catalog/items/CODE-TWO/")
    client.get("/no/such/page/")
    # when
    samples = scrape()
    # then one series for the pattern, none naming a code
    key = (
        "govportal_http_request_duration_seconds_count",
        (("method", "GET"), ("route", "/api/v1/catalog/items/<str:code>/")),
    )
    assert samples[key] >= 2
    assert not any("CODE-ONE" in str(labels) for _name, labels in samples)
    unmatched = (
        "govportal_http_requests_total",
        (("method", "GET"), ("route", "<unmatched>"), ("status", "4xx")),
    )
    assert samples[unmatched] >= 1


def test_celery_queue_depth(broker) -> None:
    broker.rpush("celery", "a", "b", "c")
    samples = scrape()
    assert samples[("govportal_celery_queue_length", (("queue", "celery"),))] == 3
    assert samples[("govportal_celery_broker_up", ())] == 1


def test_handoffs_by_state_and_query_count(django_assert_num_queries) -> None:
    # given handoffs in several states, the oldest pending one 2 hours old
    with time_machine.travel(timezone.now() - timedelta(hours=2), tick=False):
        HandoffFactory(state=HandoffState.PENDING)
    HandoffFactory(state=HandoffState.PENDING)
    HandoffFactory(state=HandoffState.DEAD)
    HandoffFactory(state=HandoffState.ACKNOWLEDGED)
    # when scraped (queries: the handoff aggregate, the count of cases past their SLA)
    with django_assert_num_queries(2):
        samples = scrape()
    # then
    assert samples[("govportal_handoffs", (("state", "pending"),))] == 2
    assert samples[("govportal_handoffs", (("state", "dead"),))] == 1
    assert samples[("govportal_handoffs", (("state", "sending"),))] == 0
    assert samples[("govportal_handoff_oldest_pending_age_seconds", ())] >= 7200
    assert samples[("govportal_cases_past_sla", ())] == 0


def test_cases_past_their_sla(department) -> None:
    # given a case accepted in September whose 20 working days are long past, a suspended one
    # (its clock is paused) and one accepted today
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()
    version = item_version(department, promised_limit_days=20)
    people = {"clerk": clerk_of(department), "reviewer": reviewer_of(department)}
    tz = timezone.get_default_timezone()
    with time_machine.travel(datetime(2026, 9, 24, 10, tzinfo=tz), tick=False):
        late = case_in(CaseStatus.IN_REVIEW, version=version, applicant=citizen(), **people)
        case_in(CaseStatus.SUSPENDED, version=version, applicant=citizen(), **people)
    case_in(CaseStatus.ACCEPTED, version=version, applicant=citizen(), **people)
    assert late.deadline < timezone.now()
    # when / then
    assert scrape()[("govportal_cases_past_sla", ())] == 1
