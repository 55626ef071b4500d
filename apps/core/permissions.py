"""Who may do what with the shared reference data (STYLE.md P1)."""

from __future__ import annotations

from typing import Any


def can_manage_calendar(user: Any) -> bool:
    """Whether ``user`` can load the State Council holiday arrangements (the working-day
    calendar in the admin): only they are shown the calendar warnings, since only they can act
    on them. Superusers hold every permission."""
    if not (getattr(user, "is_authenticated", False) and user.is_active and user.is_staff):
        return False
    return user.has_perm("core.add_calendaryear") or user.has_perm("core.change_calendaryear")
