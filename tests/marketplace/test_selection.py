from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine

from django.utils import timezone

from apps.audit.models import AuditEvent
from apps.core.exceptions import DomainError
from apps.marketplace import drawing
from apps.marketplace.constants import DrawStatus, ProjectStatus
from apps.marketplace.models import Bid, Project
from apps.marketplace.services import (
    close_registration,
    dispatch_due_projects,
    pick_from_shortlist,
    place_bid,
    register_for_project,
    run_selection,
    score_registration,
    select_by_rubric,
    select_directly,
    set_owner_nonce,
)
from tests.marketplace.factories import l3_user, listed_agency, published_project

pytestmark = pytest.mark.django_db


def _register(project, agency, **kwargs):
    return register_for_project(
        user=agency.enterprise.legal_representative,
        project_id=project.pk,
        agency_id=agency.pk,
        **kwargs,
    )


def _at(moment):
    return time_machine.travel(moment, tick=False)


def test_beat_closes_registration_and_runs_the_random_draw(service):
    # given: three registrants and the owner's nonce
    project = published_project(service)
    agencies = [listed_agency(service) for _ in range(3)]
    for agency in agencies:
        _register(project, agency)
    set_owner_nonce(user=project.owner_user, project_id=project.pk, nonce="业主的随机数")
    # when: beat runs at the close, then at the selection time (twice: idempotent)
    with _at(project.registration_closes_at):
        closed = dispatch_due_projects()
    with _at(project.selection_at + timedelta(seconds=1)):
        selected = dispatch_due_projects()
        again = dispatch_due_projects()
    # then
    assert (closed, selected, again) == (
        {"closing": 1, "selecting": 0, "contracts": 0, "overdue_objections": 0},
        {"closing": 0, "selecting": 1, "contracts": 0, "overdue_objections": 0},
        {"closing": 0, "selecting": 0, "contracts": 0, "overdue_objections": 0},
    )
    project.refresh_from_db()
    draw = project.draw
    assert project.status == ProjectStatus.AWARDED
    assert draw.status == DrawStatus.DRAWN
    assert [e["uscc"] for e in draw.registrants] == sorted(a.uscc for a in agencies)
    expected = drawing.run_draw(
        server_seed=draw.server_seed,
        usccs=[a.uscc for a in agencies],
        owner_nonce="业主的随机数",
        public_value=draw.public_value,
        picks=1,
    )
    assert [project.winner.uscc] == draw.result == expected
    assert draw.seed_commitment == drawing.seed_commitment(draw.server_seed)
    actions = list(
        AuditEvent.objects.filter(action__startswith="marketplace.")
        .order_by("seq")
        .values_list("action", flat=True)
    )
    assert actions[-4:] == [
        "marketplace.draw_frozen",
        "marketplace.registration_closed",
        "marketplace.draw_run",
        "marketplace.awarded",
    ]


def test_close_is_idempotent_and_waits_for_the_announced_time(service):
    # given
    project = published_project(service)
    for _ in range(2):
        _register(project, listed_agency(service))
    # when
    early = close_registration(project_id=project.pk)
    with _at(project.registration_closes_at):
        first = close_registration(project_id=project.pk)
        second = close_registration(project_id=project.pk)
    # then
    assert (early, first, second) == (False, True, False)
    assert AuditEvent.objects.filter(action="marketplace.draw_frozen").count() == 1


@pytest.mark.parametrize("registrants", [0, 1])
def test_fewer_than_two_registrants_fails_the_project(service, registrants):
    # given
    project = published_project(service)
    for _ in range(registrants):
        _register(project, listed_agency(service))
    # when
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)
    # then
    project.refresh_from_db()
    assert project.status == ProjectStatus.FAILED
    assert f"不足两家（{registrants}家）" in project.failure_reason


def test_registrant_whose_qualification_expired_before_close_does_not_count(service):
    # given: two registrants, one of whose certificate lapses before the close
    project = published_project(
        service,
        registration_closes_at=timezone.now() + timedelta(days=3),
        selection_at=timezone.now() + timedelta(days=3, hours=1),
    )
    good, lapsing = listed_agency(service), listed_agency(service)
    _register(project, good)
    _register(project, lapsing)
    lapsing.qualifications.update(valid_until=timezone.localdate() + timedelta(days=1))
    # when
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)
    # then
    project.refresh_from_db()
    assert project.status == ProjectStatus.FAILED


def test_registration_after_the_close_is_refused(service):
    # given
    project = published_project(service)
    agency = listed_agency(service)
    # when
    with _at(project.registration_closes_at), pytest.raises(DomainError) as late:
        _register(project, agency)
    # then
    assert late.value.code == "registration_closed"


def test_credit_ranking_big_list_draw_small_list_owner_picks(service):
    # given: five registrants with distinct credit; the 大名单 keeps the best four
    project = published_project(service, method="credit")
    agencies = [listed_agency(service, credit=str(90 + i)) for i in range(5)]
    for agency in agencies:
        _register(project, agency)
    # when
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)
    with _at(project.selection_at):
        run_selection(project_id=project.pk)
    # then
    project.refresh_from_db()
    big_list = {e["uscc"] for e in project.draw.registrants}
    assert big_list == {a.uscc for a in agencies[1:]}  # the lowest credit score is cut
    assert project.status == ProjectStatus.AWAITING_PICK
    assert len(project.shortlist) == 2
    assert set(project.shortlist) <= big_list
    # and the owner may pick only from the 小名单
    outsider = agencies[0]
    with pytest.raises(DomainError):
        pick_from_shortlist(user=project.owner_user, project_id=project.pk, agency_id=outsider.pk)
    chosen = next(a for a in agencies if a.uscc == project.shortlist[1])
    pick_from_shortlist(user=project.owner_user, project_id=project.pk, agency_id=chosen.pk)
    project.refresh_from_db()
    assert (project.status, project.winner) == (ProjectStatus.AWARDED, chosen)


def test_bidding_lowest_valid_price_and_server_time_at_the_boundary(service):
    # given: two rounds of ten minutes after the selection time
    project = published_project(service, method="bidding")
    a, b, c = (listed_agency(service) for _ in range(3))
    for agency in (a, b, c):
        _register(project, agency)
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)

    def bid(agency, price):
        return place_bid(
            user=agency.enterprise.legal_representative,
            project_id=project.pk,
            agency_id=agency.pk,
            price=Decimal(price),
        )

    round_one_opens, round_one_closes = project.bid_round_window(1)
    _, round_two_closes = project.bid_round_window(2)
    # when
    with _at(round_one_opens):
        bid(a, "70000")
        bid(b, "65000")
    with _at(round_one_closes - timedelta(microseconds=1)):
        bid(c, "69000")  # the last instant of round one still counts
    with _at(round_one_closes):
        bid(a, "60000")  # the first instant of round two
        with pytest.raises(DomainError) as higher:
            bid(b, "66000")
    with _at(round_two_closes), pytest.raises(DomainError) as late:
        bid(c, "50000")
    with _at(round_two_closes):
        run_selection(project_id=project.pk)
    # then
    assert higher.value.code == "invalid_price"
    assert late.value.code == "bidding_closed"
    assert Bid.objects.count() == 4
    project.refresh_from_db()
    assert (project.winner, project.award_price) == (a, Decimal("60000"))


def test_bid_refused_for_strangers_and_unregistered(service):
    project = published_project(service, method="bidding")
    registered, unregistered = listed_agency(service), listed_agency(service)
    _register(project, registered)
    _register(project, listed_agency(service))
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)
    with _at(project.selection_at), pytest.raises(DomainError) as stranger:
        place_bid(user=l3_user(), project_id=project.pk, agency_id=registered.pk, price=Decimal(1))
    with _at(project.selection_at), pytest.raises(DomainError) as outsider:
        place_bid(
            user=unregistered.enterprise.legal_representative,
            project_id=project.pk,
            agency_id=unregistered.pk,
            price=Decimal(1),
        )
    assert (stranger.value.code, outsider.value.code) == ("forbidden", "not_registered")
    assert Bid.objects.count() == 0


def test_proposal_weighted_rubric(service):
    # given
    project = published_project(service, method="proposal")
    first, second = listed_agency(service), listed_agency(service)
    r1 = _register(project, first, quoted_price=Decimal("70000"), proposal="方案一")
    r2 = _register(project, second, quoted_price=Decimal("60000"), proposal="方案二")
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)
    owner = project.owner_user
    # when: 60 % proposal, 40 % price
    score_registration(
        user=owner, project_id=project.pk, registration_id=r1.pk, scores={"方案": 90, "价格": 60}
    )  # 78
    score_registration(
        user=owner, project_id=project.pk, registration_id=r2.pk, scores={"方案": 70, "价格": 90}
    )  # 78 — tie, the lower price wins
    select_by_rubric(user=owner, project_id=project.pk)
    # then
    project.refresh_from_db()
    assert (project.winner, project.award_price) == (second, Decimal("60000"))


def test_direct_selection_records_the_reason_and_checks_eligibility(service):
    # given
    project = published_project(service, method="direct")
    agency = listed_agency(service)
    # when
    with pytest.raises(DomainError):
        select_directly(user=l3_user(), project_id=project.pk, agency_id=agency.pk)
    select_directly(user=project.owner_user, project_id=project.pk, agency_id=agency.pk)
    # then
    project.refresh_from_db()
    assert project.status == ProjectStatus.AWARDED
    assert project.award_note == "直接选取：抢修配套的小额评估"
    assert Project.objects.get().winner == agency
