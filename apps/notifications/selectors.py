"""Reads of notices, always scoped to their recipient (STYLE.md C4)."""

from __future__ import annotations

from typing import Any

from django.core.cache import cache
from django.db.models import QuerySet
from django.http import Http404

from apps.notifications import kinds
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import unread_cache_key


def list_notifications_for(user: Any, *, unread_only: bool = False) -> QuerySet[Notification]:
    """The person's messages, newest first (no joins needed: a notice carries its text)."""
    rows = Notification.objects.filter(recipient=user)
    if unread_only:
        rows = rows.filter(read_at__isnull=True)
    return rows.order_by("-created_at", "-pk")


def get_notification_for(*, user: Any, notification_id: int) -> Notification:
    """One of the person's own messages; anyone else's (or none) is a 404."""
    row = Notification.objects.filter(pk=notification_id, recipient=user).first()
    if row is None:
        raise Http404
    return row


# The cached count lives until a notice is created or read (``services`` deletes the key on
# commit); the timeout only bounds the damage of a missed invalidation.
UNREAD_CACHE_SECONDS = 24 * 3600


def _count_unread(user_id: int) -> int:
    value = Notification.objects.filter(recipient_id=user_id, read_at__isnull=True).count()
    cache.set(unread_cache_key(user_id), value, timeout=UNREAD_CACHE_SECONDS)
    return value


def unread_count(user_id: int) -> int:
    """Unread notices of ``user_id``: from the cache, else one COUNT (then cached)."""
    value = cache.get(unread_cache_key(user_id))
    return int(value) if value is not None else _count_unread(user_id)


def warm_unread_count(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    """``user_logged_in`` receiver: count once at sign-in."""
    if user is not None and user.pk is not None:
        _count_unread(user.pk)


def preference_rows(user: Any) -> list[dict[str, Any]]:
    """For the preferences page: each registered kind with the person's (site, sms)."""
    chosen = {
        pref.kind: (pref.site, pref.sms)
        for pref in NotificationPreference.objects.filter(user=user)
    }
    rows = []
    for kind in kinds.registered_kinds():
        site, sms = chosen.get(kind.code, kinds.default_channels(kind.code))
        rows.append(
            {
                "kind": kind,
                "site": True if kind.site_required else site,
                "sms": sms,
            }
        )
    return rows
