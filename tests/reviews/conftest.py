import pytest

from apps.core import calendar


@pytest.fixture(autouse=True)
def _calendar(db) -> None:
    """The State Council arrangements (2026: DOMAIN.md quick reference) in the calendar."""
    from apps.core.services import seed_calendar

    seed_calendar(first_year=2026)
    calendar.invalidate_calendar()


@pytest.fixture
def completed_case(department):
    from apps.cases.constants import CaseStatus
    from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

    version = item_version(department)
    return case_in(
        CaseStatus.COMPLETED,
        version=version,
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )


@pytest.fixture
def accepted_case(department):
    from apps.cases.constants import CaseStatus
    from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of

    return case_in(
        CaseStatus.ACCEPTED,
        version=item_version(department),
        applicant=citizen(),
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )
