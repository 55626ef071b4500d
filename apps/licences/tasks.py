"""Celery entry points of the licences app (STYLE.md T1–T3)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="licences.expire")
def expire_licences() -> int:
    """Nightly: valid licences past their term become 已过期 (idempotent, row-locked)."""
    from apps.licences.services import expire_licences as expire

    return expire()


@shared_task(name="licences.render_file", acks_late=True, ignore_result=True)
def render_licence_file(licence_id: int) -> None:
    """After issue: render and seal the version's PDF (idempotent; a download does it too)."""
    from apps.licences.services import ensure_licence_file

    ensure_licence_file(licence_id=licence_id)


@shared_task(name="licences.remind_expiry", acks_late=True, ignore_result=True)
def remind_expiring_licences() -> int:
    """Daily: notices to holders whose licences end within the configured days ahead."""
    from apps.licences.services import remind_expiring_licences as remind

    return remind()
