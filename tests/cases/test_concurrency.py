"""Two clerks accept the same case at the same moment (threads, real PostgreSQL)."""

import threading

import pytest

from django.db import connection

from apps.cases import services
from apps.cases.constants import CaseAction, CaseStatus
from apps.cases.exceptions import IllegalTransition
from apps.cases.models import Case
from apps.cases.permissions import CaseActor
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of


@pytest.mark.django_db(transaction=True)
def test_two_clerks_accept_at_once_one_wins(department) -> None:
    # given a submitted case and two clerks of its department
    version = item_version(department)
    first_clerk, second_clerk = clerk_of(department), clerk_of(department)
    case = case_in(
        CaseStatus.SUBMITTED,
        version=version,
        applicant=citizen(),
        clerk=first_clerk,
        reviewer=reviewer_of(department),
    )
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def accept(name: str, clerk) -> None:
        try:
            barrier.wait()
            services.accept_case(case_id=case.pk, actor=CaseActor.of(clerk))
            outcomes[name] = "accepted"
        except IllegalTransition as exc:
            outcomes[name] = exc
        finally:
            connection.close()

    threads = [
        threading.Thread(target=accept, args=("a", first_clerk)),
        threading.Thread(target=accept, args=("b", second_clerk)),
    ]
    # when both press 受理 at once
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    # then exactly one wins and the other gets a clear error naming the new state
    winners = [name for name, outcome in outcomes.items() if outcome == "accepted"]
    losers = [outcome for outcome in outcomes.values() if isinstance(outcome, IllegalTransition)]
    assert len(winners) == 1
    assert len(losers) == 1
    assert losers[0].code == "illegal_transition"
    assert "已受理" in losers[0].message
    # and the case was accepted once: one event, one acceptance handoff
    case.refresh_from_db()
    assert case.status == CaseStatus.ACCEPTED
    assert case.events.filter(action=CaseAction.ACCEPT).count() == 1
    from apps.handoffs.models import Handoff

    assert Handoff.objects.filter(subject_type="cases.case", subject_id=str(case.pk)).count() == 1
    assert Case.objects.count() == 1
