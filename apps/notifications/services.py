"""Sending notices (STYLE.md C3: the one way to write ``Notification`` and ``SmsMessage`` rows).

Two entry points, both idempotent under one ``key``:

- ``notify_users`` — in-site notices to staff or citizens, no preferences, no SMS (the SLA
  warnings and other office notices use it);
- ``send_notice`` — what a citizen or enterprise is told: in-site and SMS, each as the person
  chose for the notice's kind (``kinds.py``), to account holders *or* to bare phone numbers
  (``Recipient(phone=…)``: a walk-in applicant without an account gets the SMS only).

SMS leave through the outbox: the row is written with the notice, the ``notifications.send_sms``
task (scheduled on commit) sends it once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.core.cache import cache
from django.db import transaction
from django.utils import timezone

from apps.core.queue import enqueue
from apps.notifications import kinds
from apps.notifications.models import (
    Notification,
    NotificationPreference,
    SmsMessage,
    SmsStatus,
)
from apps.notifications.sms import send_sms

logger = logging.getLogger(__name__)

SMS_MAX_ATTEMPTS = 5


# --- the unread counter (header badge) ------------------------------------------------------


def unread_cache_key(user_id: int) -> str:
    return f"notifications:unread:{user_id}"


def _forget_unread(user_ids: Iterable[int]) -> None:
    keys = [unread_cache_key(user_id) for user_id in user_ids]
    if keys:
        transaction.on_commit(partial(cache.delete_many, keys))


# --- in-site only -----------------------------------------------------------------------------


def notify_users(
    *, recipients: Iterable[Any], key: str, kind: str, title: str, body: str = "", url: str = ""
) -> int:
    """Give each recipient one notice under ``key``; idempotent (a recipient who already has a
    notice with this key gets nothing new). Returns how many notices were created."""
    user_ids = sorted({getattr(user, "pk", user) for user in recipients if user is not None})
    if not user_ids:
        return 0
    return _create_site_notices(user_ids, key=key, kind=kind, title=title, body=body, url=url)


def _create_site_notices(
    user_ids: list[int], *, key: str, kind: str, title: str, body: str, url: str
) -> int:
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
    with transaction.atomic():
        before = Notification.objects.filter(key=key[:120], recipient_id__in=user_ids).count()
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        after = Notification.objects.filter(key=key[:120], recipient_id__in=user_ids).count()
        _forget_unread(user_ids)
    return after - before


# --- citizens' notices: in-site + SMS, by preference ----------------------------------------


@dataclass(frozen=True)
class Recipient:
    """Someone to tell: an account (``user_id``; their phone is looked up) or, for a person
    without an account, just a ``phone`` (SMS only). ``url`` overrides the notice's link."""

    user_id: int | None = None
    phone: str = ""
    url: str = ""


@dataclass(frozen=True)
class NoticeResult:
    site: int  # in-site notices created now
    sms: int  # SMS queued now


def _as_recipient(value: Any) -> Recipient | None:
    if value is None:
        return None
    if isinstance(value, Recipient):
        return value if (value.user_id or value.phone) else None
    return Recipient(user_id=int(getattr(value, "pk", value)))


def channels_for(user_ids: Iterable[int], kind: str) -> dict[int, tuple[bool, bool]]:
    """(site, sms) per user for ``kind``: their preference, else the kind's default (one
    query)."""
    site_default, sms_default = kinds.default_channels(kind)
    registered = kinds.get_kind(kind)
    ids = list(user_ids)
    chosen = {
        pref.user_id: (pref.site, pref.sms)
        for pref in NotificationPreference.objects.filter(user_id__in=ids, kind=kind)
    }
    result = {}
    for user_id in ids:
        site, sms = chosen.get(user_id, (site_default, sms_default))
        if registered is not None and registered.site_required:
            site = True
        result[user_id] = (site, sms)
    return result


def _phones(user_ids: Iterable[int]) -> dict[int, str]:
    from apps.identity.models import Person

    return {
        person.user_id: person.phone
        for person in Person.objects.filter(user_id__in=list(user_ids), phone__isnull=False)
        if person.phone
    }


def send_notice(
    *,
    recipients: Iterable[Any],
    key: str,
    kind: str,
    title: str,
    body: str = "",
    url: str = "",
    sms_text: str = "",
) -> NoticeResult:
    """Tell each recipient once under ``key``: an in-site notice and/or an SMS (``sms_text``;
    none when empty), as each person chose for ``kind``. Recipients are users, user ids or
    ``Recipient`` rows; duplicates are told once.

    Idempotent: a retried call creates nothing twice and re-queues only SMS still pending.
    Runs in the caller's transaction if there is one; SMS leave on commit.
    """
    people: dict[int, Recipient] = {}
    bare_phones: dict[str, Recipient] = {}
    for value in recipients:
        recipient = _as_recipient(value)
        if recipient is None:
            continue
        if recipient.user_id:
            people.setdefault(int(recipient.user_id), recipient)
        else:
            bare_phones.setdefault(recipient.phone, recipient)
    if not people and not bare_phones:
        return NoticeResult(site=0, sms=0)
    from apps.identity.pii import phone_index

    with transaction.atomic():
        channels = channels_for(people, kind)
        site_created = 0
        by_url: dict[str, list[int]] = {}
        for user_id, recipient in people.items():
            if channels[user_id][0]:
                by_url.setdefault(recipient.url or url, []).append(user_id)
        for link, user_ids in by_url.items():
            site_created += _create_site_notices(
                sorted(user_ids), key=key, kind=kind, title=title, body=body, url=link
            )
        wanted: list[tuple[str, int | None, str]] = []
        if sms_text:
            sms_users = [user_id for user_id in people if channels[user_id][1]]
            phones = _phones(sms_users)
            wanted += [(f"u{uid}", uid, phones[uid]) for uid in sms_users if uid in phones]
            # A person without an account has no preferences: the kind's default applies.
            if kinds.default_channels(kind)[1]:
                wanted += [(f"p{phone_index(phone)}", None, phone) for phone in bare_phones]
        queued = 0
        for recipient_key, user_id, phone in wanted:
            row, created = SmsMessage.objects.get_or_create(
                key=key[:120],
                recipient_key=recipient_key,
                defaults={"user_id": user_id, "kind": kind[:40], "phone": phone, "text": sms_text},
            )
            if row.status == SmsStatus.PENDING:
                transaction.on_commit(partial(enqueue, "notifications.send_sms", row.pk))
                queued += int(created)
    logger.info(
        "notifications.notice_sent",
        extra={"key": key, "kind": kind, "site": site_created, "sms": queued},
    )
    return NoticeResult(site=site_created, sms=queued)


def deliver_sms(*, sms_id: int) -> bool:
    """Send one queued SMS (task ``notifications.send_sms``; idempotent).

    Claim (``sending``, attempts + 1) in one short transaction, send, record. Returns whether
    this call sent it; a row already sent, being sent, or out of attempts is left alone. A
    gateway error puts it back to ``pending`` and re-raises, so the task retries.
    """
    with transaction.atomic(durable=True):
        row = SmsMessage.objects.select_for_update(skip_locked=True).filter(pk=sms_id).first()
        if row is None or row.status != SmsStatus.PENDING:
            return False
        if row.attempts >= SMS_MAX_ATTEMPTS:
            row.status = SmsStatus.FAILED
            row.save(update_fields=["status", "updated_at"])
            return False
        row.status = SmsStatus.SENDING
        row.attempts += 1
        row.save(update_fields=["status", "attempts", "updated_at"])
    try:
        send_sms(to=row.phone, text=row.text)
    except Exception as exc:
        SmsMessage.objects.filter(pk=row.pk).update(
            status=SmsStatus.PENDING, last_error=type(exc).__name__[:200], updated_at=timezone.now()
        )
        logger.exception("notifications.sms_failed", extra={"sms_id": row.pk})
        raise
    SmsMessage.objects.filter(pk=row.pk).update(
        status=SmsStatus.SENT, sent_at=timezone.now(), updated_at=timezone.now()
    )
    return True


# --- the person's own actions ---------------------------------------------------------------


def mark_read(*, user: Any, notification_ids: Iterable[int] | None = None) -> int:
    """Mark the user's notices read (all unread ones when ``notification_ids`` is None).
    Only the user's own notices are touched. Returns how many changed."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if notification_ids is not None:
        rows = rows.filter(pk__in=list(notification_ids))
    changed = rows.update(read_at=timezone.now())
    if changed:
        cache.delete(unread_cache_key(user.pk))
    return changed


@transaction.atomic(durable=True)
def set_preferences(*, user: Any, choices: dict[str, tuple[bool, bool]]) -> None:
    """Store ``{kind: (site, sms)}`` for registered kinds (others are ignored); a
    ``site_required`` kind keeps its in-site notice whatever was chosen. Audited."""
    from apps.audit.services import record_audit_event

    stored = {}
    for kind in kinds.registered_kinds():
        if kind.code not in choices:
            continue
        site, sms = choices[kind.code]
        site = True if kind.site_required else bool(site)
        NotificationPreference.objects.update_or_create(
            user=user, kind=kind.code, defaults={"site": site, "sms": bool(sms)}
        )
        stored[kind.code] = [site, bool(sms)]
    record_audit_event(
        actor=user, action="notifications.preferences_set", obj=user, data={"channels": stored}
    )


__all__ = [
    "NoticeResult",
    "Recipient",
    "channels_for",
    "deliver_sms",
    "mark_read",
    "notify_users",
    "send_notice",
    "set_preferences",
]
