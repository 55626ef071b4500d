import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")
application = get_wsgi_application()

# Each server process loads the search tokenizer, URLs and templates before its first request
# (govportal.warmup); WARM_ON_START=false skips it (e.g. a one-off process importing the app).
if os.environ.get("WARM_ON_START", "true").lower() not in {"0", "false", "no"}:
    from govportal.warmup import warm

    warm()
