"""Celery entry points for cases (STYLE.md C6): ids in, one service call, idempotent."""

from celery import shared_task


@shared_task(name="cases.notify_case_event")
def notify_case_event(event_id: int) -> None:
    from apps.cases.services import notify_case_event as notify

    notify(event_id=event_id)


@shared_task(name="cases.notify_sla_warning")
def notify_sla_warning(warning_id: int) -> None:
    from apps.cases.services import notify_sla_warning as notify

    notify(warning_id=warning_id)


@shared_task(name="cases.notify_deadline_recomputed")
def notify_deadline_recomputed(event_id: int) -> None:
    from apps.cases.services import notify_deadline_recomputed as notify

    notify(event_id=event_id)


@shared_task(name="cases.apply_deadlines")
def apply_deadlines() -> dict[str, int]:
    """行政许可法 Art. 32 deemed acceptance and expired supplement periods (beat)."""
    from apps.cases.services import apply_case_deadlines

    return apply_case_deadlines()


@shared_task(name="cases.raise_sla_warnings")
def raise_sla_warnings() -> dict[str, int]:
    """Yellow / red SLA warnings, once per (case, level) (beat)."""
    from apps.cases.services import raise_sla_warnings as raise_warnings

    return raise_warnings()
