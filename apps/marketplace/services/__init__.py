"""Every write of the 中介超市 (STYLE.md S1), split by sub-domain."""

from apps.marketplace.services.aftercare import (
    confirm_completion,
    confirm_contract,
    credit_components,
    evaluate_agency,
    impose_sanction,
    refuse_contract,
)
from apps.marketplace.services.agencies import (
    declare_agency_service,
    end_agency_publicity,
    register_agency,
    review_agency,
    save_intermediary_service,
    suspend_expired_qualifications,
)
from apps.marketplace.services.award import (
    end_award_publicity,
    handle_objection,
    raise_objection,
)
from apps.marketplace.services.milestones import (
    add_milestone,
    confirm_milestone,
    report_milestone,
    upload_contract,
)
from apps.marketplace.services.projects import (
    register_for_project,
    review_project,
    set_owner_nonce,
    submit_project,
    validate_requirements,
)
from apps.marketplace.services.sanctions import lift_ended_sanctions, lift_sanction
from apps.marketplace.services.selection import (
    close_registration,
    dispatch_due_projects,
    pick_from_shortlist,
    place_bid,
    run_selection,
    score_registration,
    select_by_rubric,
    select_directly,
)

__all__ = [
    "add_milestone",
    "close_registration",
    "confirm_completion",
    "confirm_contract",
    "confirm_milestone",
    "credit_components",
    "declare_agency_service",
    "dispatch_due_projects",
    "end_agency_publicity",
    "end_award_publicity",
    "evaluate_agency",
    "handle_objection",
    "impose_sanction",
    "lift_ended_sanctions",
    "lift_sanction",
    "pick_from_shortlist",
    "place_bid",
    "raise_objection",
    "refuse_contract",
    "register_agency",
    "register_for_project",
    "report_milestone",
    "review_agency",
    "review_project",
    "run_selection",
    "save_intermediary_service",
    "score_registration",
    "select_by_rubric",
    "select_directly",
    "set_owner_nonce",
    "submit_project",
    "suspend_expired_qualifications",
    "upload_contract",
    "validate_requirements",
]
