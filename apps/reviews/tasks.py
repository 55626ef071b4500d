"""Beat tasks of 好差评 (STYLE.md T1: ids/plain values in, one service call)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="reviews.apply_defaults", acks_late=True)
def apply_default_ratings() -> int:
    from apps.reviews.services import apply_default_ratings as apply_defaults

    return apply_defaults()


@shared_task(name="reviews.escalate_overdue", acks_late=True)
def escalate_overdue_tickets() -> int:
    from apps.reviews.services import escalate_overdue_tickets as escalate

    return escalate()


@shared_task(name="reviews.close_unanswered", acks_late=True)
def close_unanswered_tickets() -> int:
    from apps.reviews.services import close_unanswered_tickets as close_unanswered

    return close_unanswered()
