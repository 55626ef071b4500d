"""``pg_dump`` of the test database, for the tests that no personal data is stored in clear."""

import shutil
import subprocess

from django.conf import settings


def pg_dump(*options: str) -> str:
    """The SQL dump of the test database's committed data (``options`` go to ``pg_dump``)."""
    db = settings.DATABASES["default"]
    executable = shutil.which("pg_dump")
    assert executable, "pg_dump is not installed"
    result = subprocess.run(
        [
            executable,
            "--host",
            db.get("HOST") or "127.0.0.1",
            "--port",
            str(db.get("PORT") or 5432),
            "--username",
            db.get("USER") or "postgres",
            "--no-owner",
            *options,
            db["NAME"],
        ],
        capture_output=True,
        check=True,
        text=True,
        timeout=120,
    )
    return result.stdout
