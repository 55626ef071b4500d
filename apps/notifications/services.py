"""Sending in-app notices (STYLE.md C3: the one way to write ``Notification`` rows)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from apps.notifications.models import Notification


def notify_users(
    *, recipients: Iterable[Any], key: str, kind: str, title: str, body: str = "", url: str = ""
) -> int:
    """Give each recipient one notice under ``key``; idempotent (a recipient who already has a
    notice with this key gets nothing new). Returns how many notices were created."""
    user_ids = sorted({getattr(user, "pk", user) for user in recipients if user is not None})
    if not user_ids:
        return 0
    rows = [
        Notification(
            recipient_id=user_id,
            key=key[:120],
            kind=kind[:40],
            title=title[:200],
            body=body,
            url=url[:300],
        )
        for user_id in user_ids
    ]
    before = Notification.objects.filter(key=key[:120], recipient_id__in=user_ids).count()
    Notification.objects.bulk_create(rows, ignore_conflicts=True)
    after = Notification.objects.filter(key=key[:120], recipient_id__in=user_ids).count()
    return after - before
