from celery import shared_task


@shared_task(name="identity.recheck_legal_representatives")
def recheck_legal_representatives() -> int:
    """Nightly: follow the 法人库 for every bound enterprise (idempotent). Returns how many
    enterprises changed."""
    from apps.identity.services import recheck_bound_enterprises

    return len(recheck_bound_enterprises(source="daily_recheck"))
