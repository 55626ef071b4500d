"""Expiry reminders (到期提醒): a notice to the holder some days before a licence's term ends,
with a link to the renewal item when the catalogue names one (beat task, daily)."""

from __future__ import annotations

from datetime import date, timedelta

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from apps.licences.constants import LicenceStatus
from apps.licences.models import Licence
from apps.notifications.services import notify_users


def _recipients(licence: Licence) -> list[int]:
    """The holder; for an enterprise, its legal representative and licence administrators."""
    if licence.holder_user_id:
        return [licence.holder_user_id]
    enterprise = licence.holder_enterprise
    if enterprise is None:
        return []
    ids = set(enterprise.roles.filter(revoked_at__isnull=True).values_list("user_id", flat=True))
    if enterprise.legal_representative_id:
        ids.add(enterprise.legal_representative_id)
    return sorted(ids)


def remind_expiring_licences(*, today: date | None = None, limit: int = 5000) -> int:
    """Notify holders of valid licences ending within the configured days ahead
    (``LICENCE_EXPIRY_REMINDER_DAYS``, e.g. 30 and 7). One notice per licence and threshold:
    idempotent, and a day the beat missed is caught up the next day. Returns notices sent."""
    today = today or timezone.localdate()
    thresholds = sorted({int(d) for d in settings.LICENCE_EXPIRY_REMINDER_DAYS if int(d) >= 0})
    if not thresholds:
        return 0
    rows = (
        Licence.objects.filter(
            status=LicenceStatus.VALID,
            valid_until__gte=today,
            valid_until__lte=today + timedelta(days=thresholds[-1]),
        )
        .filter(Q(holder_user__isnull=False) | Q(holder_enterprise__isnull=False))
        .select_related("licence_type", "holder_enterprise")
        .order_by("valid_until", "pk")[:limit]
    )
    sent = 0
    for licence in rows:
        assert licence.valid_until is not None
        left = (licence.valid_until - today).days
        threshold = next(d for d in thresholds if left <= d)
        renewal = licence.licence_type.renewal_item_code
        url = (
            reverse("catalog:item-detail", args=[renewal])
            if renewal
            else reverse("licences:detail", args=[licence.pk])
        )
        sent += notify_users(
            recipients=_recipients(licence),
            key=f"licence-expiry:{licence.pk}:{threshold}",
            kind="licence_expiry",
            title=_("您的%(name)s将于%(date)s到期")
            % {
                "name": licence.name,
                "date": licence.valid_until.isoformat(),
            },
            body=_("还有%(days)s天到期，请及时办理延续。") % {"days": left}
            if renewal
            else _("还有%(days)s天到期。") % {"days": left},
            url=url,
        )
    return sent
