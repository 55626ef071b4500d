"""Every write of the licences app: issue, change/renew, status actions, expiry, use, tokens.

Each entry service is ``@transaction.atomic(durable=True)``; helpers (``_issue``, ``_transition``)
run inside the caller's transaction so the decision hook can issue within the decision.
Every state change appends to ``LicenceStatusChange`` and writes an audit event (STYLE.md S4).

The package is split by sub-domain; ``from apps.licences.services import X`` keeps working
through the re-exports below.
"""

from apps.licences.services.catalogue import sync_licence_catalogue
from apps.licences.services.common import (
    PURPOSE_MAX,
    Holder,
    LicenceActor,
    holder_code_index,
    holder_of,
    validate_face_data,
)
from apps.licences.services.decisions import issue_result_licence
from apps.licences.services.files import (
    ensure_licence_file,
    issue_annotated_copy,
    revoke_seal_key,
)
from apps.licences.services.issuance import change_licence, issue_licence
from apps.licences.services.push import (
    push_status_change,
    subscribe_status_changes,
    unsubscribe_status_changes,
)
from apps.licences.services.reminders import remind_expiring_licences
from apps.licences.services.statuses import change_licence_status, expire_licences
from apps.licences.services.use import (
    grant_use_authorisation,
    open_shown_licence,
    read_licence_for_use,
    record_access_refused,
    resolve_licence_for_case,
    revoke_use_authorisation,
)
from apps.licences.services.verification import (
    TOKEN_TTL,
    create_verification_token,
    record_verification,
)

__all__ = [
    "PURPOSE_MAX",
    "TOKEN_TTL",
    "Holder",
    "LicenceActor",
    "change_licence",
    "change_licence_status",
    "create_verification_token",
    "ensure_licence_file",
    "expire_licences",
    "grant_use_authorisation",
    "holder_code_index",
    "holder_of",
    "issue_annotated_copy",
    "issue_licence",
    "issue_result_licence",
    "open_shown_licence",
    "push_status_change",
    "read_licence_for_use",
    "record_access_refused",
    "record_verification",
    "remind_expiring_licences",
    "resolve_licence_for_case",
    "revoke_seal_key",
    "revoke_use_authorisation",
    "subscribe_status_changes",
    "sync_licence_catalogue",
    "unsubscribe_status_changes",
    "validate_face_data",
]
