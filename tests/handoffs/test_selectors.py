"""Reads: /healthz details, office counts, inbox scoping."""

from __future__ import annotations

from datetime import timedelta

import pytest
import time_machine

from django.utils import timezone

from apps.handoffs.constants import HandoffState
from apps.handoffs.selectors import handoff_counts_for, handoff_health, list_inbox_for_department
from tests.handoffs.factories import HandoffFactory
from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_healthz_reports_oldest_pending_age_and_open_counts(
    client, department, other_department, django_assert_max_num_queries
) -> None:
    # given a pending handoff created 90 s ago, one sending, one dead, one acknowledged
    with time_machine.travel(timezone.now() - timedelta(seconds=90)):
        HandoffFactory(source_department=department, target_department=other_department)
    HandoffFactory(
        source_department=department, target_department=other_department, state=HandoffState.SENDING
    )
    HandoffFactory(
        source_department=department, target_department=other_department, state=HandoffState.DEAD
    )
    HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.ACKNOWLEDGED,
    )
    # when /healthz is read
    response = client.get("/healthz")
    # then its details carry the handoff figures
    details = response.json()["details"]["handoffs"]
    assert 89 <= details["oldest_pending_age_seconds"] <= 120
    assert {k: details[k] for k in ("pending", "sending", "delivered", "dead")} == {
        "pending": 1,
        "sending": 1,
        "delivered": 0,
        "dead": 1,
    }
    # and the figures cost one query
    with django_assert_max_num_queries(1):
        handoff_health()


def test_healthz_ages_handoffs_waiting_in_an_inbox_or_office_queue(department, other_department):
    # given nothing waiting: both ages are 0
    assert handoff_health()["oldest_unacknowledged_age_seconds"] == 0.0
    # given a handoff delivered to a pull inbox 10 min ago that nobody has acknowledged, and a
    # newer one; nothing pending
    with time_machine.travel(timezone.now() - timedelta(minutes=10)):
        HandoffFactory(
            source_department=department,
            target_department=other_department,
            state=HandoffState.DELIVERED,
        )
    HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.DELIVERED,
    )
    # then the unacknowledged age shows the stalled department, the pending age stays 0
    health = handoff_health()
    assert 599 <= health["oldest_unacknowledged_age_seconds"] <= 630
    assert health["oldest_pending_age_seconds"] == 0.0
    assert health["delivered"] == 2


def test_counts_by_department_and_state_for_platform_admin(department, other_department) -> None:
    # given handoffs to two departments
    HandoffFactory.create_batch(2, source_department=department, target_department=other_department)
    HandoffFactory(
        source_department=other_department, target_department=department, state=HandoffState.DEAD
    )
    admin = UserFactory(admin=True)
    # when counted
    counts = {row["department"]: row for row in handoff_counts_for(admin)}
    # then by target department and state
    assert counts[other_department.name]["pending"] == 2
    assert counts[other_department.name]["total"] == 2
    assert counts[department.name]["dead"] == 1


def test_inbox_lists_only_open_handoffs_of_the_department(department, other_department) -> None:
    # given open and closed handoffs for two departments
    mine = HandoffFactory(
        source_department=other_department,
        target_department=department,
        state=HandoffState.DELIVERED,
    )
    HandoffFactory(
        source_department=other_department,
        target_department=department,
        state=HandoffState.ACKNOWLEDGED,
    )
    HandoffFactory(source_department=department, target_department=other_department)
    # when the department's inbox is listed
    inbox = list_inbox_for_department(department)
    # then only its open handoff is there
    assert [handoff.pk for handoff in inbox] == [mine.pk]
