from celery import shared_task


@shared_task(name="core.check_calendar")
def check_calendar() -> None:
    """Nightly calendar check (idempotent)."""
    from django.conf import settings

    from apps.core.services import check_calendar as check

    check(first_year=settings.CALENDAR_FIRST_YEAR)
