"""The state machine as data (DOMAIN.md §1.6): structural properties of TRANSITIONS."""

import pytest

from apps.cases.constants import (
    TERMINAL_STATES,
    TRANSITIONS,
    Actor,
    CaseAction,
    CaseStatus,
    allowed_actions,
    is_allowed,
    target_of,
)


def _reachable() -> set[str]:
    seen = {CaseStatus.DRAFT.value}
    frontier = [CaseStatus.DRAFT.value]
    while frontier:
        state = frontier.pop()
        for action in allowed_actions(state):
            nxt = target_of(action, state)
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    return seen


def test_every_action_has_a_transition() -> None:
    assert set(TRANSITIONS) == set(CaseAction.values)


def test_every_state_is_reachable_from_draft() -> None:
    assert _reachable() == set(CaseStatus.values)


def test_terminal_states_have_no_way_out() -> None:
    for state in TERMINAL_STATES:
        assert allowed_actions(state) == []


def test_non_terminal_states_have_a_way_out() -> None:
    for state in set(CaseStatus.values) - TERMINAL_STATES:
        assert allowed_actions(state), state


def test_withdraw_only_before_a_decision() -> None:
    # given the states after a decision
    decided = {CaseStatus.DECIDED, CaseStatus.COMPLETED, CaseStatus.DELIVERED}
    # then none of them allows withdrawal, and every pre-decision live state does
    for state in decided:
        assert not is_allowed(CaseAction.WITHDRAW, state)
    for state in (CaseStatus.SUBMITTED, CaseStatus.AWAITING_SUPPLEMENT, CaseStatus.IN_REVIEW):
        assert is_allowed(CaseAction.WITHDRAW, state)


@pytest.mark.parametrize(
    ("_case", "state", "actor", "expected"),
    [
        (
            "clerk_at_receipt",
            CaseStatus.SUBMITTED,
            Actor.CLERK,
            [
                CaseAction.PRECHECK,
                CaseAction.REQUEST_SUPPLEMENT,
                CaseAction.ACCEPT,
                CaseAction.ACCEPT_INSTANT,
                CaseAction.REJECT,
            ],
        ),
        (
            "applicant_waiting",
            CaseStatus.AWAITING_SUPPLEMENT,
            Actor.APPLICANT,
            [CaseAction.RESUBMIT, CaseAction.WITHDRAW],
        ),
        (
            "department_review",
            CaseStatus.IN_REVIEW,
            Actor.DEPARTMENT,
            [CaseAction.SUSPEND, CaseAction.EXTEND, CaseAction.DECIDE],
        ),
        ("system_received", CaseStatus.SUBMITTED, Actor.SYSTEM, [CaseAction.DEEM_ACCEPTED]),
    ],
)
def test_allowed_actions_by_actor(_case: str, state: str, actor: str, expected: list) -> None:
    assert allowed_actions(state, actor) == expected


def test_extension_keeps_the_state() -> None:
    assert target_of(CaseAction.EXTEND, CaseStatus.IN_REVIEW) == CaseStatus.IN_REVIEW


def test_instant_case_goes_straight_to_completed() -> None:
    assert target_of(CaseAction.ACCEPT_INSTANT, CaseStatus.SUBMITTED) == CaseStatus.COMPLETED
