"""Every write to a case (STYLE.md C3). One public function per ``CaseAction``.

Each transition:
1. locks the case row (``select_for_update``),
2. checks the actor's capacity (``permissions.actor_kinds``) against ``TRANSITIONS``,
3. checks the current state against ``TRANSITIONS`` (``IllegalTransition`` → 409 on the API),
4. applies the action's own rules (DOMAIN.md §1.5–1.6), changes the row,
5. writes a ``CaseEvent`` and, last, the audit event, in the same transaction,
6. schedules notifications with ``transaction.on_commit``.

A refused action raises before anything is written. Public entry points own a durable
transaction; the ``_``-prefixed helpers run inside a caller's transaction so that composite
flows (一窗受理: create + submit + accept) and the handoff answer handler stay atomic.

The package is split by sub-domain (``_base`` holds the transition core shared by the rest);
everything public is re-exported here, so callers import from ``apps.cases.services``. Tasks are
sent by name (``apps.core.queue.enqueue``): ``apps.cases.tasks`` imports this package, never
the other way round.
"""

# What other apps need to call these services: the actor, the window roles, the refusals.
from apps.cases.exceptions import CaseActionForbidden, IllegalTransition
from apps.cases.permissions import CLERK_ROLES, CaseActor
from apps.cases.services._base import (
    case_clock,
    handoff_payload,
)
from apps.cases.services.deadlines import (
    apply_case_deadlines,
    lapse_tolerance,
    notify_deadline_recomputed,
    raise_sla_warnings,
    recompute_deadlines_for_year,
)
from apps.cases.services.drafts import (
    create_draft,
    discard_draft,
    save_draft,
)
from apps.cases.services.intake import (
    accept_case,
    accept_instant_case,
    deem_case_accepted,
    expire_supplement,
    precheck_case,
    reject_case,
    request_supplement,
    resubmit_case,
    submit_case,
)
from apps.cases.services.materials import (
    add_material_licence,
    add_material_shared,
    add_material_upload,
    mark_material,
)
from apps.cases.services.notify import (
    WALK_IN_SMS_ACTIONS,
    notify_case_event,
    notify_sla_warning,
    notify_walk_in_by_sms,
    sla_warning_recipients,
)
from apps.cases.services.processing import (
    apply_department_answer,
    complete_case,
    decide_case,
    deliver_case,
    extend_case,
    record_result_licence,
    resume_case,
    start_review,
    suspend_case,
    withdraw_case,
)
from apps.cases.services.window import (
    claim_walk_in_cases,
    create_window_case,
    issue_window_supplement,
    window_supplement_items,
)

__all__ = [
    "CLERK_ROLES",
    "WALK_IN_SMS_ACTIONS",
    "CaseActionForbidden",
    "CaseActor",
    "IllegalTransition",
    "accept_case",
    "accept_instant_case",
    "add_material_licence",
    "add_material_shared",
    "add_material_upload",
    "apply_case_deadlines",
    "apply_department_answer",
    "case_clock",
    "claim_walk_in_cases",
    "complete_case",
    "create_draft",
    "create_window_case",
    "decide_case",
    "deem_case_accepted",
    "deliver_case",
    "discard_draft",
    "expire_supplement",
    "extend_case",
    "handoff_payload",
    "issue_window_supplement",
    "lapse_tolerance",
    "mark_material",
    "notify_case_event",
    "notify_deadline_recomputed",
    "notify_sla_warning",
    "notify_walk_in_by_sms",
    "precheck_case",
    "raise_sla_warnings",
    "recompute_deadlines_for_year",
    "record_result_licence",
    "reject_case",
    "request_supplement",
    "resubmit_case",
    "resume_case",
    "save_draft",
    "sla_warning_recipients",
    "start_review",
    "submit_case",
    "suspend_case",
    "window_supplement_items",
    "withdraw_case",
]
