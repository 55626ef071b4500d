from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from django.test import TestCase


@pytest.fixture(autouse=True)
def _themes(db: None) -> None:
    """Themes are seeded by a migration; transactional tests truncate them, so re-seed."""
    from apps.catalog.services import ensure_themes

    ensure_themes()


@contextmanager
def shared_data(django_db_blocker: Any) -> Iterator[None]:
    """Data built once for a module and rolled back after it (like ``setUpTestData``).

    The rows live in an outer transaction that every test of the module runs inside (each test
    in its own savepoint, as pytest-django's ``db`` does), so tests may read and write them
    freely and nothing outlives the module. Only for modules whose tests are not
    ``transaction=True``. The atomics are Django's test-case atomics, which let the services'
    ``atomic(durable=True)`` run inside them as they do inside a test.
    """
    with django_db_blocker.unblock():
        atomics = TestCase._enter_atomics()
        try:
            yield
        finally:
            TestCase._rollback_atomics(atomics)
