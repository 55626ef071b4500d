"""Random sequences of project actions keep the project consistent and disclose nothing early
(unpublished registrant lists, the server seed before the draw, sealed bids before opening,
proposals before the close, the contract before the award's publicity period ends)."""

from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.contrib.auth.models import AnonymousUser

from apps.core.exceptions import DomainError
from apps.marketplace.constants import DrawStatus, ProjectStatus
from apps.marketplace.models import Contract
from apps.marketplace.selectors import draw_document, visible_bids, visible_proposals
from apps.marketplace.services import (
    close_registration,
    place_bid,
    register_for_project,
    run_selection,
    set_owner_nonce,
)
from tests.marketplace.factories import (
    IntermediaryServiceFactory,
    listed_agency,
    published_project,
)

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

ACTIONS = st.lists(
    st.one_of(
        st.tuples(st.just("register"), st.integers(0, 3)),
        st.tuples(st.just("bid"), st.integers(0, 3)),
        st.tuples(st.just("nonce"), st.integers(0, 0)),
        st.tuples(st.just("close"), st.integers(0, 0)),
        st.tuples(st.just("select"), st.integers(0, 0)),
    ),
    max_size=12,
)


def _check(project, clock):
    project.refresh_from_db()
    draw = getattr(project, "draw", None)
    registered = sorted(project.registrations.values_list("agency__enterprise__uscc", flat=True))
    if draw is not None:
        document = draw_document(draw)
        # The seed is secret until the draw; the list until the close.
        assert ("server_seed" in document) == (draw.status == DrawStatus.DRAWN)
        assert ("registrants" in document) == (draw.status != DrawStatus.COMMITTED)
        if draw.status != DrawStatus.COMMITTED:
            assert [e["uscc"] for e in draw.registrants] == sorted(
                e["uscc"] for e in draw.registrants
            )
            assert {e["uscc"] for e in draw.registrants} <= set(registered)
    if project.status == ProjectStatus.REGISTERING and draw is not None:
        assert draw.status == DrawStatus.COMMITTED
    if project.status == ProjectStatus.FAILED:
        assert draw is None or draw.status == DrawStatus.COMMITTED
        assert project.failure_reason
    if project.status == ProjectStatus.AWARDED:
        assert project.winner is not None
        if draw is not None:
            assert draw.status == DrawStatus.DRAWN
            assert draw.result == [project.winner.uscc]
    if project.status == ProjectStatus.AWAITING_PICK:
        assert set(project.shortlist) <= {e["uscc"] for e in draw.registrants}
    if project.status == ProjectStatus.AWARDED and clock < project.award_publicity_ends_at:
        assert not Contract.objects.filter(project=project).exists()
    with time_machine.travel(clock, tick=False):
        for bid in visible_bids(AnonymousUser(), project):
            assert project.bid_round_window(bid.round_number)[1] <= clock
        # Proposals: never public; the owner sees none before the close.
        assert visible_proposals(AnonymousUser(), project) == []
        if clock < project.registration_closes_at:
            assert visible_proposals(project.owner_user, project) == []


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(method=st.sampled_from(["random", "credit", "bidding"]), actions=ACTIONS)
def test_random_action_sequences_stay_consistent(method, actions):
    service = IntermediaryServiceFactory()
    project = published_project(service, method=method)
    agencies = [listed_agency(service, credit=str(90 + i)) for i in range(4)]
    clock = project.published_at + timedelta(minutes=1)
    for action, index in actions:
        agency = agencies[index]
        with time_machine.travel(clock, tick=False):
            try:
                if action == "register":
                    register_for_project(
                        user=agency.submitted_by,
                        project_id=project.pk,
                        agency_id=agency.pk,
                        proposal=f"方案{index}",
                    )
                elif action == "bid":
                    clock = max(clock, project.selection_at)
                    with time_machine.travel(clock, tick=False):
                        place_bid(
                            user=agency.submitted_by,
                            project_id=project.pk,
                            agency_id=agency.pk,
                            price=Decimal(70000 - index),
                        )
                elif action == "nonce":
                    set_owner_nonce(user=project.owner_user, project_id=project.pk, nonce="n")
                elif action == "close":
                    clock = max(clock, project.registration_closes_at)
                    with time_machine.travel(clock, tick=False):
                        close_registration(project_id=project.pk)
                else:
                    clock = max(
                        clock,
                        project.bidding_ends_at if method == "bidding" else project.selection_at,
                    )
                    with time_machine.travel(clock, tick=False):
                        run_selection(project_id=project.pk)
            except DomainError:
                pass  # a refused action changes nothing; the invariants below still hold
        _check(project, clock)
