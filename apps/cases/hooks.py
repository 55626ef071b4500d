"""Decision hook: what other apps do when a case is decided (STYLE.md: no signals).

The ``licences`` app (issue 7) registers, in its ``AppConfig.ready()``::

    from apps.cases.hooks import register_decision_handler
    register_decision_handler(issue_result_licence)

and ``apps.cases.services`` calls every registered handler **inside the decision's
transaction**, right after the ``decide`` event and its audit record, with a
``DecisionEvent`` (also when a 即办件 is accepted and approved in one step). Whether the
decision came from a clerk's screen, the department API or a
handoff answer makes no difference: all go through the one ``decide`` transition.

A handler:
- checks ``event.issues_licence`` (the item version names a result licence type and the
  decision grants, fully or partly) and does nothing otherwise;
- may write in the same transaction (e.g. issue the licence with its own audit event) and then
  record the result on the case with ``apps.cases.services.record_result_licence`` (结果证照名称
  and 编号, GB/T 39046 6.5), which adds a public timeline entry;
- schedules anything slow or external with ``transaction.on_commit``;
- raising refuses the whole decision (nothing is written): keep to what must be atomic with it.

Handlers run in registration order; registering the same function twice has no effect.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from apps.cases.constants import Decision


@dataclass(frozen=True)
class DecisionEvent:
    # The locked apps.cases.models.Case, already in state ``decided`` (``completed`` for a
    # 即办件 accepted and decided in one step).
    case: Any
    decision: str  # apps.cases.constants.Decision
    actor: Any  # apps.cases.permissions.CaseActor who decided
    licence_type: str  # ItemVersion.result_licence_type ("" when the item issues none)
    result_name: str  # ItemVersion.result_name (审批结果名称)

    @property
    def issues_licence(self) -> bool:
        return bool(self.licence_type) and self.decision in (Decision.APPROVED, Decision.PARTIAL)


DecisionHandler = Callable[[DecisionEvent], None]

_handlers: list[DecisionHandler] = []


def register_decision_handler(fn: DecisionHandler) -> None:
    if fn not in _handlers:
        _handlers.append(fn)


def unregister_decision_handler(fn: DecisionHandler) -> None:
    if fn in _handlers:
        _handlers.remove(fn)


@contextmanager
def decision_handler(fn: DecisionHandler) -> Iterator[None]:
    """Register ``fn`` for the duration (tests)."""
    register_decision_handler(fn)
    try:
        yield
    finally:
        unregister_decision_handler(fn)


def run_decision_handlers(event: DecisionEvent) -> None:
    for handler in list(_handlers):
        handler(event)


# --- case page panels ---------------------------------------------------------------------
# Another app adds a block to the applicant's case page without the cases app importing it:
# ``register_case_panel(fn)`` in its ``AppConfig.ready()``, where ``fn(request, case)`` returns
# rendered HTML (or "" to show nothing). The page renders them with ``{% case_panels case %}``
# (apps/cases/templatetags/case_panels.py). Used by reviews (the rating form, issue 12).

CasePanel = Callable[[Any, Any], str]

_panels: list[CasePanel] = []


def register_case_panel(fn: CasePanel) -> None:
    if fn not in _panels:
        _panels.append(fn)


def render_case_panels(request: Any, case: Any) -> list[str]:
    return [html for html in (panel(request, case) for panel in list(_panels)) if html]
