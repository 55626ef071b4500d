"""Celery entry points of the outbox: ids in, one service call (STYLE.md T1-T3)."""

from celery import shared_task

from apps.handoffs.services import deliver_handoff, sweep_handoffs


@shared_task(name="handoffs.deliver", acks_late=True, ignore_result=True)
def deliver_handoff_task(handoff_id: int) -> str:
    """Deliver one handoff. Idempotent; retries are scheduled by the service, not by Celery."""
    return deliver_handoff(handoff_id=handoff_id)


@shared_task(name="handoffs.sweep", acks_late=True, ignore_result=True)
def sweep_handoffs_task() -> dict[str, int]:
    """Beat: re-enqueue handoffs whose task was lost (see services.sweep_handoffs)."""
    return sweep_handoffs()
