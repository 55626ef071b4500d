"""What the other bundle service modules share: how a child's state is read from its case,
the application's status derived from its children, and the orchestration task sent by name
(no import of the tasks module: no cycle)."""

from __future__ import annotations

from collections.abc import Sequence

from apps.bundles.constants import (
    CHILD_OPEN_STATES,
    ApplicationStatus,
    ChildState,
)
from apps.bundles.models import (
    BundleApplication,
    BundleChild,
)
from apps.cases.constants import CaseStatus, Decision
from apps.core.queue import enqueue

ADVANCE_TASK = "bundles.advance"
GRANTED = {Decision.APPROVED, Decision.PARTIAL}
_CLOSED_CASE_STATES = {
    CaseStatus.NOT_ACCEPTED,
    CaseStatus.SUPPLEMENT_EXPIRED,
    CaseStatus.WITHDRAWN,
}
_DECIDED_CASE_STATES = {CaseStatus.DECIDED, CaseStatus.COMPLETED, CaseStatus.DELIVERED}


def enqueue_advance(application_id: int) -> None:
    """Enqueue the orchestration by task name (no import of the tasks module: no cycle)."""
    enqueue(ADVANCE_TASK, application_id)


def effective_state(child: BundleChild) -> str:
    """The child's state with what happened to its case since (a refusal at acceptance or a
    withdrawal has no hook)."""
    case = child.case
    if child.state == ChildState.SUBMITTED and case is not None:
        if case.status in _CLOSED_CASE_STATES:
            return ChildState.CLOSED
        if case.status in _DECIDED_CASE_STATES:
            return ChildState.DECIDED
    return child.state


def is_granted(child: BundleChild) -> bool:
    decision = child.decision or (child.case.decision if child.case is not None else "")
    return effective_state(child) == ChildState.DECIDED and decision in GRANTED


def derive_status(states: Sequence[tuple[str, bool]], *, withdrawn: bool = False) -> str:
    """The application's status from its children's ``(effective state, granted)``."""
    if withdrawn:
        return ApplicationStatus.WITHDRAWN
    if any(state in CHILD_OPEN_STATES for state, _granted in states):
        return ApplicationStatus.IN_PROGRESS
    if all(state == ChildState.DECIDED and granted for state, granted in states):
        return ApplicationStatus.CONCLUDED
    return ApplicationStatus.PARTLY_CONCLUDED


def _children(application: BundleApplication) -> list[BundleChild]:
    return list(
        application.children.select_related("component", "case").order_by("component__order", "pk")
    )
