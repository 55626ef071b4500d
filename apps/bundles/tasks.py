"""Celery entry points of the bundles app: ids in, one service call (STYLE.md T1)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="bundles.advance", acks_late=True)
def advance_bundle_application(application_id: int) -> dict[str, int]:
    """Idempotent: starts what may start, blocks what cannot, refreshes the status."""
    from apps.bundles.services import advance_bundle_application as advance

    return advance(application_id=application_id)


@shared_task(name="bundles.sweep", acks_late=True)
def sweep_bundle_applications() -> int:
    from apps.bundles.services import sweep_bundle_applications as sweep

    return sweep()
