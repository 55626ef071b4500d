"""竞价 in open rounds: several rounds, the current lowest price shown (never who bid it), a bid
must go below it, server time decides, a bid after the close is refused."""

import threading
from decimal import Decimal

import pytest
import time_machine

from django.db import connection
from django.urls import reverse

from apps.core.exceptions import DomainError
from apps.marketplace.constants import BidMode, ProjectStatus
from apps.marketplace.models import Bid, Project
from apps.marketplace.services import (
    close_registration,
    place_bid,
    register_for_project,
    run_selection,
)
from tests.marketplace.factories import listed_agency, published_project


def _at(moment):
    return time_machine.travel(moment, tick=False)


def _open_project(service, agencies):
    project = published_project(service, method="bidding", bid_mode=BidMode.OPEN)
    for agency in agencies:
        register_for_project(
            user=agency.enterprise.legal_representative, project_id=project.pk, agency_id=agency.pk
        )
    with _at(project.registration_closes_at):
        close_registration(project_id=project.pk)
    return project


def _bid(project, agency, price):
    return place_bid(
        user=agency.enterprise.legal_representative,
        project_id=project.pk,
        agency_id=agency.pk,
        price=Decimal(price),
    )


@pytest.mark.django_db
def test_open_rounds_show_the_lowest_price_and_take_only_lower_bids(client, service):
    a, b, c = (listed_agency(service) for _ in range(3))
    project = _open_project(service, (a, b, c))
    round_one_opens, round_one_closes = project.bid_round_window(1)
    _, round_two_closes = project.bid_round_window(2)
    refused = {}
    # when: round one
    with _at(round_one_opens):
        _bid(project, a, "70000")
        with pytest.raises(DomainError) as equal:
            _bid(project, b, "70000")
        refused["equal"] = equal.value.code
        _bid(project, b, "65000")
        client.force_login(c.enterprise.legal_representative)
        during = client.get(reverse("marketplace:project", args=[project.pk])).content.decode()
    # and round two, then after the close
    with _at(round_one_closes):
        _bid(project, c, "64000")
        with pytest.raises(DomainError) as not_lower:
            _bid(project, a, "64500")
        refused["not_lower"] = not_lower.value.code
    with _at(round_two_closes), pytest.raises(DomainError) as late:
        _bid(project, a, "50000")
    refused["late"] = late.value.code
    with _at(round_two_closes):
        run_selection(project_id=project.pk)
    # then: the page showed the lowest price, not who bid it
    assert "当前最低报价" in during
    assert "65000" in during
    assert b.enterprise.name not in during
    assert refused == {"equal": "not_lower", "not_lower": "not_lower", "late": "bidding_closed"}
    project.refresh_from_db()
    assert (project.status, project.winner, project.award_price) == (
        ProjectStatus.AWARDED,
        c,
        Decimal("64000"),
    )
    assert Bid.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_equal_bids_in_an_open_round_take_exactly_one(service):
    agencies = [listed_agency(service) for _ in range(4)]
    project = _open_project(service, agencies)
    opens, _closes = project.bid_round_window(1)
    barrier = threading.Barrier(len(agencies))
    outcomes: list[str] = []

    def bid(agency):
        try:
            barrier.wait()
            _bid(project, agency, "50000")
            outcomes.append("accepted")
        except DomainError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    # when: four agencies bid the same price at the same instant
    with _at(opens):
        threads = [threading.Thread(target=bid, args=(agency,)) for agency in agencies]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    # then: one accepted, the others told to go lower; nothing doubled
    assert sorted(outcomes) == ["accepted"] + ["not_lower"] * 3
    assert Bid.objects.filter(project=project).count() == 1


@pytest.mark.django_db
def test_project_form_takes_the_bid_mode(client, service):
    from datetime import timedelta

    from django.utils import timezone

    from tests.marketplace.factories import l3_user

    client.force_login(l3_user())
    closes = timezone.localtime() + timedelta(days=2)
    client.post(
        reverse("marketplace:project_new"),
        {
            "name": "公开竞价项目",
            "service": service.pk,
            "scope": "报告表",
            "budget": "80000",
            "time_limit_days": 30,
            "method": "bidding",
            "registration_closes_at": closes.strftime("%Y-%m-%dT%H:%M"),
            "selection_at": (closes + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"),
            "big_list_size": 0,
            "small_list_size": 0,
            "bid_rounds": 3,
            "bid_round_minutes": 3,
            "bid_mode": "open",
        },
    )
    assert Project.objects.get().bid_mode == BidMode.OPEN
