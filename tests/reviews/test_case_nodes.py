"""Rating an earlier case node (受理 …) where the region's policy opens it (DOMAIN.md §2.4:
"一事一评 … after a service node, at least after 办结")."""

from __future__ import annotations

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.handoffs.models import Handoff
from apps.reviews import services
from apps.reviews.constants import Grade, ReviewNode, ServiceKind
from apps.reviews.models import Rating, RectificationTicket, ReviewPolicy, ServiceRecord
from tests.core.factories import DepartmentFactory
from tests.identity.factories import UserFactory
from tests.reviews.factories import ONLINE_BAD_REASON

# The applicant's case page (10: session, user, the case with its relations, materials,
# notices, tolerances, timeline, wallet licences …) plus the node panel (5): whether any region
# has a policy of its own, the node's rating, the indicator set with its indicators and options.
CASE_PAGE_QUERIES = 15


@pytest.fixture
def nodes_open(settings):
    settings.REVIEWS_RATEABLE_NODES = [ReviewNode.ACCEPTED, ReviewNode.NOT_ACCEPTED]


def test_applicant_rates_the_acceptance_node_once_when_configured(
    nodes_open, accepted_case
) -> None:
    # given a region whose policy opens 受理 to rating, and a case at 受理
    applicant = accepted_case.acting_user
    # when the applicant rates the node
    rating = services.rate_case_node(
        case_id=accepted_case.pk, user=applicant, node=ReviewNode.ACCEPTED, grade=Grade.SATISFIED
    )
    # then the node is a service of its own, rated once; the case's completion record is untouched
    service = ServiceRecord.objects.get(node_case=accepted_case)
    assert (service.kind, service.node, service.case_id) == (ServiceKind.CASE, "accepted", None)
    assert (rating.service_id, rating.rater, rating.sequence) == (service.pk, applicant, 1)
    assert service.is_rated
    with pytest.raises(DomainError) as error:
        services.rate_case_node(
            case_id=accepted_case.pk,
            user=applicant,
            node=ReviewNode.ACCEPTED,
            grade=Grade.VERY_SATISFIED,
        )
    assert error.value.code == "already_rated"
    assert Rating.objects.count() == 1
    event = AuditEvent.objects.get(action="reviews.rate")
    assert event.data["node"] == "accepted"


@pytest.mark.parametrize(
    ("_case", "node", "code"),
    [
        ("not_opened_by_the_policy", ReviewNode.IN_REVIEW, "node_not_rateable"),
        ("not_a_node", "completed", "node_not_rateable"),
        ("case_is_not_at_that_node", ReviewNode.NOT_ACCEPTED, "not_at_node"),
    ],
)
def test_node_rating_refused_outside_the_configuration(
    nodes_open, accepted_case, _case, node, code
) -> None:
    with pytest.raises(DomainError) as error:
        services.rate_case_node(
            case_id=accepted_case.pk,
            user=accepted_case.acting_user,
            node=node,
            grade=Grade.SATISFIED,
        )
    assert error.value.code == code
    assert not ServiceRecord.objects.exists()
    assert not Rating.objects.exists()


def test_node_rating_is_closed_by_default_and_per_region(settings, accepted_case) -> None:
    # given no node opened in the settings
    settings.REVIEWS_RATEABLE_NODES = []
    with pytest.raises(DomainError) as error:
        services.rate_case_node(
            case_id=accepted_case.pk,
            user=accepted_case.acting_user,
            node=ReviewNode.ACCEPTED,
            grade=Grade.SATISFIED,
        )
    assert error.value.code == "node_not_rateable"
    # when the case's region opens 受理 in its own policy
    ReviewPolicy.objects.create(
        region=accepted_case.department.region, rateable_nodes=[ReviewNode.ACCEPTED]
    )
    rating = services.rate_case_node(
        case_id=accepted_case.pk,
        user=accepted_case.acting_user,
        node=ReviewNode.ACCEPTED,
        grade=Grade.SATISFIED,
    )
    # then it may be rated
    assert rating.service.node == ReviewNode.ACCEPTED


def test_only_the_applicant_rates_a_node(nodes_open, accepted_case) -> None:
    with pytest.raises(DomainError) as error:
        services.rate_case_node(
            case_id=accepted_case.pk,
            user=UserFactory(),
            node=ReviewNode.ACCEPTED,
            grade=Grade.SATISFIED,
        )
    assert error.value.code == "not_rater"
    assert not Rating.objects.exists()


def test_a_bad_node_rating_opens_a_ticket_and_is_pushed_as_in_progress(
    nodes_open, accepted_case, settings
) -> None:
    # given the national target
    national = DepartmentFactory(name="国家政务服务平台好差评系统")
    settings.REVIEWS_NATIONAL_TARGET_USCC = national.uscc
    # when the applicant rates 受理 非常不满意
    rating = services.rate_case_node(
        case_id=accepted_case.pk,
        user=accepted_case.acting_user,
        node=ReviewNode.ACCEPTED,
        grade=Grade.VERY_DISSATISFIED,
        options=[ONLINE_BAD_REASON],
    )
    # then a ticket goes to the case's department, and the push says 办理中 for the case number
    ticket = RectificationTicket.objects.get(rating=rating)
    assert ticket.department == accepted_case.department
    payload = Handoff.objects.get(event="reviews.rating").payload
    assert (payload["projectNo"], payload["proStatus"]) == (accepted_case.number, "2")


def test_policy_refuses_unknown_nodes(accepted_case) -> None:
    from django.core.exceptions import ValidationError

    policy = ReviewPolicy(region=accepted_case.department.region, rateable_nodes=["completed"])
    with pytest.raises(ValidationError):
        policy.full_clean()


def test_case_page_offers_the_node_rating_and_the_applicant_rates(
    nodes_open, client, accepted_case, django_assert_max_num_queries
) -> None:
    # given the applicant on the page of a case at 受理
    client.force_login(accepted_case.acting_user)
    url = reverse("cases:detail", args=[accepted_case.pk])
    # when the applicant rates 受理 through the panel's form
    with django_assert_max_num_queries(CASE_PAGE_QUERIES):
        page = client.get(url)
    response = client.post(
        reverse("reviews:case_node_rate", args=[accepted_case.pk, "accepted"]),
        {"grade": Grade.SATISFIED, "comment": "受理很快"},
    )
    # then the rating is stored and the panel shows it instead of the form
    assert "评价“受理”环节的服务" in page.content.decode()
    assert response.status_code == 302
    rating = Rating.objects.get()
    assert (rating.grade, rating.service.node) == (Grade.SATISFIED, "accepted")
    after = client.get(url).content.decode()
    assert "您的评价" in after
    assert reverse("reviews:case_node_rate", args=[accepted_case.pk, "accepted"]) not in after


def test_node_rating_page_refuses_a_closed_node(client, accepted_case, settings) -> None:
    settings.REVIEWS_RATEABLE_NODES = []
    client.force_login(accepted_case.acting_user)
    page = client.get(reverse("cases:detail", args=[accepted_case.pk])).content.decode()
    response = client.post(
        reverse("reviews:case_node_rate", args=[accepted_case.pk, "accepted"]),
        {"grade": Grade.SATISFIED},
        follow=True,
    )
    assert "评价“受理”环节的服务" not in page
    assert "该办理环节不开放评价" in response.content.decode()
    assert not Rating.objects.exists()
