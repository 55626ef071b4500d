import pytest

from apps.core import calendar
from apps.core.services import seed_calendar


@pytest.fixture(autouse=True)
def _calendar(request: pytest.FixtureRequest) -> None:
    """Child cases need the working-day calendar (2026 with its holidays and 调休)."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None:
        return
    transactional = marker.kwargs.get("transaction", False)
    request.getfixturevalue("transactional_db" if transactional else "db")
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


@pytest.fixture(autouse=True)
def _uploads(settings, tmp_path) -> None:
    settings.CASES_UPLOAD_ROOT = tmp_path / "case-files"
