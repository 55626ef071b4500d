"""Beat tasks of the 中介超市 (STYLE.md T1: ids in, one service call, idempotent)."""

from __future__ import annotations

from celery import shared_task


@shared_task(name="marketplace.dispatch_due", acks_late=True)
def dispatch_due_projects() -> dict[str, int]:
    from apps.marketplace.services import dispatch_due_projects as dispatch

    return dispatch()


@shared_task(name="marketplace.close_registration", acks_late=True)
def close_registration(project_id: int) -> bool:
    from apps.marketplace.services import close_registration as close

    return close(project_id=project_id)


@shared_task(name="marketplace.run_selection", acks_late=True)
def run_selection(project_id: int) -> bool:
    from apps.marketplace.services import run_selection as run

    return run(project_id=project_id)


@shared_task(name="marketplace.end_agency_publicity", acks_late=True)
def end_agency_publicity() -> int:
    from apps.marketplace.services import end_agency_publicity as end

    return end()


@shared_task(name="marketplace.suspend_expired_qualifications", acks_late=True)
def suspend_expired_qualifications() -> dict[str, int]:
    from apps.marketplace.services import suspend_expired_qualifications as suspend

    return suspend()


@shared_task(name="marketplace.end_award_publicity", acks_late=True)
def end_award_publicity(project_id: int) -> bool:
    from apps.marketplace.services import end_award_publicity as end

    return end(project_id=project_id)


@shared_task(name="marketplace.lift_ended_sanctions", acks_late=True)
def lift_ended_sanctions() -> int:
    from apps.marketplace.services import lift_ended_sanctions as lift

    return lift()
