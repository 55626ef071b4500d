"""Celery entry points of the licences app (STYLE.md T1–T3)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="licences.expire")
def expire_licences() -> int:
    """Nightly: valid licences past their term become 已过期 (idempotent, row-locked)."""
    from apps.licences.services import expire_licences as expire

    return expire()
