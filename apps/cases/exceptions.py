"""Refusals specific to cases; the API maps them by ``status_code`` (apps.core.drf)."""

from apps.core.exceptions import DomainError


class IllegalTransition(DomainError):
    """The action is not allowed in the case's current state (someone else was faster, or the
    action does not apply). API: 409 Conflict."""

    status_code = 409


class CaseActionForbidden(DomainError):
    """The actor may not take this action on this case. API: 403."""

    status_code = 403
