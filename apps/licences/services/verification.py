"""Verification tokens and the verification log (验真)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone

from apps.licences.models import (
    Licence,
    VerificationRecord,
    VerificationToken,
)
from apps.licences.selectors import token_digest

# --- verification tokens ---------------------------------------------------------------------

TOKEN_TTL = {
    VerificationToken.Purpose.VERIFY: timedelta(minutes=10),
    VerificationToken.Purpose.SHOW: timedelta(minutes=3),
}


@transaction.atomic(durable=True)
def create_verification_token(
    *, licence_id: int, user: Any, purpose: str = VerificationToken.Purpose.VERIFY
) -> tuple[str, VerificationToken]:
    """A fresh opaque token for the licence's QR (验真) or for 亮证; only its hash is stored.
    The caller must have checked the user may see the licence (selectors.get_licence_for)."""
    token = secrets.token_urlsafe(24)
    row = VerificationToken.objects.create(
        token_hash=token_digest(token),
        licence_id=licence_id,
        purpose=purpose,
        expires_at=timezone.now() + TOKEN_TTL[purpose],
        created_by=user if getattr(user, "is_authenticated", False) else None,
    )
    return token, row


def record_verification(
    *, licence: Licence | None, channel: str, outcome: str, reason: str
) -> None:
    """Log a verification answer; no verifier data (no IP, no account) is kept."""
    VerificationRecord.objects.create(
        licence=licence, channel=channel, outcome=outcome, reason=reason[:32]
    )
