import pytest


@pytest.fixture(autouse=True)
def _themes(db: None) -> None:
    """Themes are seeded by a migration; transactional tests truncate them, so re-seed."""
    from apps.catalog.services import ensure_themes

    ensure_themes()
