"""Seams for apps further down (identity never imports them; they register at startup).

``register_walk_in_claim_handler``: when a person verifies on an account the ID number a window
clerk recorded for them (``WalkInPerson``), identity claims the record and calls each handler
inside the same transaction, so the records other apps keep for that person (cases) become the
account's atomically. A handler returns how many of its records it moved.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

ClaimHandler = Callable[..., int]
_claim_handlers: dict[str, ClaimHandler] = {}


def register_walk_in_claim_handler(name: str, handler: ClaimHandler) -> None:
    """``handler(*, walk_in_person, user) -> int`` runs inside the claiming transaction."""
    _claim_handlers[name] = handler


def run_walk_in_claim_handlers(*, walk_in_person: Any, user: Any) -> dict[str, int]:
    return {
        name: int(handler(walk_in_person=walk_in_person, user=user))
        for name, handler in _claim_handlers.items()
    }
