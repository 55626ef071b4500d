"""Every write of 好差评 (STYLE.md C3), split by sub-domain: service records, ratings, the
bad-review loop and appeals.

Each entry service locks what it changes, writes its rows, updates the statistics rollups
(``apps.reviews.rollups``) and appends the audit event last, all in one transaction. Import
from this package (``from apps.reviews.services import rate_case``); the modules are its
private layout.
"""

from apps.reviews.constants import COMMENT_MAX
from apps.reviews.services.appeals import decide_appeal, file_appeal
from apps.reviews.services.ratings import (
    active_indicator_set,
    apply_default_rating,
    apply_default_ratings,
    moderate_comment,
    rate_by_token,
    rate_case,
    rate_case_node,
    rate_service_followup,
)
from apps.reviews.services.records import (
    PAD_SALT,
    RATEABLE_CASE_STATES,
    pad_token,
    record_window_service,
    register_completed_cases,
    service_for_pad_token,
)
from apps.reviews.services.tickets import (
    answer_feedback,
    close_unanswered_ticket,
    close_unanswered_tickets,
    escalate_overdue_tickets,
    escalate_ticket,
    is_department_member,
    record_follow_up,
    record_rectification,
    start_rectification,
)

__all__ = [
    "COMMENT_MAX",
    "PAD_SALT",
    "RATEABLE_CASE_STATES",
    "active_indicator_set",
    "answer_feedback",
    "apply_default_rating",
    "apply_default_ratings",
    "close_unanswered_ticket",
    "close_unanswered_tickets",
    "decide_appeal",
    "escalate_overdue_tickets",
    "escalate_ticket",
    "file_appeal",
    "is_department_member",
    "moderate_comment",
    "pad_token",
    "rate_by_token",
    "rate_case",
    "rate_case_node",
    "rate_service_followup",
    "record_follow_up",
    "record_rectification",
    "record_window_service",
    "register_completed_cases",
    "service_for_pad_token",
    "start_rectification",
]
