"""Celery entry points for cases (STYLE.md C6): ids in, one service call, idempotent.

This module imports the services; the services send these tasks by name
(``apps.core.queue.enqueue``), so the two never import each other.
"""

from celery import shared_task

from apps.cases import services


@shared_task(name="cases.notify_case_event")
def notify_case_event(event_id: int) -> None:
    services.notify_case_event(event_id=event_id)


@shared_task(name="cases.notify_sla_warning")
def notify_sla_warning(warning_id: int) -> None:
    services.notify_sla_warning(warning_id=warning_id)


@shared_task(name="cases.notify_deadline_recomputed")
def notify_deadline_recomputed(event_id: int) -> None:
    services.notify_deadline_recomputed(event_id=event_id)


@shared_task(name="cases.apply_deadlines")
def apply_deadlines() -> dict[str, int]:
    """行政许可法 Art. 32 deemed acceptance and expired supplement periods (beat)."""
    return services.apply_case_deadlines()


@shared_task(name="cases.raise_sla_warnings")
def raise_sla_warnings() -> dict[str, int]:
    """Yellow / red SLA warnings, once per (case, level) (beat)."""
    return services.raise_sla_warnings()
