"""`make bench`: run every benchmark and print one JSON object per line.

Benchmarks run against the real services on this machine: PostgreSQL database
``govportal_bench`` (created and migrated here) and Redis database 14.
Usage: ``python -m bench [name ...]``.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from datetime import UTC, datetime

os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/govportal_bench")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/14")
os.environ.setdefault("SECRET_KEY", "bench-only")
os.environ.setdefault("CELERY_TASK_ALWAYS_EAGER", "true")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "govportal.settings")
os.environ.setdefault("CONN_MAX_AGE", "0")
# Pages are rendered in-process without collectstatic.
os.environ.setdefault("STATIC_MANIFEST", "false")
# Personal-data keys and the SSO signing key are required when DEBUG is off; the bench
# database holds no real data.
os.environ.setdefault("PII_KEYS", "YmVuY2gtb25seS1rZXktYmVuY2gtb25seS1rZXktMDA=")
os.environ.setdefault("PII_INDEX_KEY", "bench-only")
if not os.environ.get("OIDC_RSA_PRIVATE_KEY"):
    from apps.identity.oidc_keys import generate_private_key_pem

    os.environ["OIDC_RSA_PRIVATE_KEY"] = generate_private_key_pem()
# Only the JSON result lines on stdout (application logs of the measured code are INFO).
os.environ.setdefault("LOG_LEVEL", "WARNING")


def _ensure_database() -> None:
    name = os.environ["DATABASE_URL"].rsplit("/", 1)[-1]
    exists = subprocess.run(
        [
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not exists:
        subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)


def main(argv: list[str]) -> int:
    _ensure_database()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", "--noinput", verbosity=0)

    from bench import registry

    names = argv or list(registry.BENCHMARKS)
    context = {
        "at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
    }
    for name in names:
        for result in registry.BENCHMARKS[name]():
            print(json.dumps({"bench": name, **result, **context}, ensure_ascii=False), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
