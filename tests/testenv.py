"""Test environment, loaded as a pytest plugin (``-p tests.testenv``) before Django starts.

Tests run against the real services: PostgreSQL (pytest-django creates ``test_<name>``) and
Redis database 15, which the test run owns and may flush. Values already in the environment win,
so CI or a developer can point the suite elsewhere.
"""

import os
from pathlib import Path

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govportal")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/15")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production")
os.environ.setdefault("DEBUG", "false")
# Real OIDC clients in the tests call back on loopback http.
os.environ.setdefault("OAUTH2_REDIRECT_SCHEMES", "http,https")
os.environ.setdefault("SECURE_COOKIES", "false")
os.environ.setdefault("STATIC_MANIFEST", "false")
# Services schedule tasks on commit; unit tests run them in-process. Delivery tests (marked
# ``worker``) switch eager mode off and use a real worker (see tests/conftest.py).
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("CONN_MAX_AGE", "0")
os.environ.setdefault("WHITENOISE_USE_FINDERS", "true")
# WhiteNoise warns when STATIC_ROOT is missing; tests serve static files through the finders.
(Path(__file__).resolve().parent.parent / "var" / "static").mkdir(parents=True, exist_ok=True)

# Identity: personal-data keys (two, so rotation is exercised: the first encrypts) and an OIDC
# signing key generated for this run. A worker subprocess inherits them through the environment.
os.environ.setdefault(
    "PII_KEYS",
    "_6JXm3UXGzyY8d5GwNlHIOSZTM4xFkc1eTPsYknZkxY=,1INPlW9hBAhJu0batGPcqscHbEykSkvLf6qpIGb5dXA=",
)
os.environ.setdefault("PII_INDEX_KEY", "test-pii-index-key-not-for-production")
if not os.environ.get("OIDC_RSA_PRIVATE_KEY"):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    os.environ["OIDC_RSA_PRIVATE_KEY"] = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
    )
# The console SMS backend prints; tests read codes from the in-memory outbox instead.
os.environ.setdefault("SMS_BACKEND", "apps.notifications.sms.LocmemSmsBackend")
