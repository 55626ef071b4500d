"""Celery entry points for notifications (STYLE.md C6): ids in, one service call, idempotent."""

from celery import shared_task

from apps.notifications.services import deliver_sms


@shared_task(
    name="notifications.send_sms",
    bind=True,
    acks_late=True,
    autoretry_for=(OSError,),
    retry_backoff=True,
    retry_backoff_max=600,
    retry_jitter=True,
    max_retries=4,
)
def send_sms(self, sms_id: int) -> bool:  # type: ignore[no-untyped-def]
    return deliver_sms(sms_id=sms_id)
