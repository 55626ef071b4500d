"""The Celery application.

Tasks are thin and idempotent (STYLE.md T1-T3); the schedule lives in settings
(``CELERY_BEAT_SCHEDULE``). Without ``REDIS_URL`` tasks run eagerly in-process,
which exists only for the zero-setup demo.
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")

app = Celery("govportal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
