"""A case keeps the item version it was applied under (issue 4, Deliver 2 / Must show):
editing and republishing the item through the department API changes neither a running case
nor what that case shows; a new case gets the new version."""

import pytest

from django.urls import reverse

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.catalog.selectors import get_item_for_apply
from apps.core import calendar
from apps.core.services import seed_calendar
from tests.cases.factories import case_in, citizen, clerk_of, draft, reviewer_of
from tests.catalog.factories import materials, published_item

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _calendar() -> None:
    seed_calendar(first_year=2025)
    calendar.invalidate_calendar()


def test_republished_item_does_not_change_a_running_case(dept_client, department) -> None:
    # given: an accepted case on version 1 (promised 5 working days, two materials)
    item, version_1 = published_item(department, name="食品经营许可", promised_limit_days=5)
    applicant = citizen()
    case = case_in(
        CaseStatus.ACCEPTED,
        version=version_1,
        applicant=applicant,
        clerk=clerk_of(department),
        reviewer=reviewer_of(department),
    )
    deadline = case.deadline
    # when: the department renames the item, shortens the limit, changes the materials and
    # publishes version 2 through its API
    url = reverse("api:catalog-department-item", args=[item.implementation_code])
    assert (
        dept_client.patch(
            url,
            {
                "name": "食品经营许可（新版）",
                "promised_limit_days": 3,
                "materials": materials(name="居民身份证（正反面）")[:1],
            },
            format="json",
        ).status_code
        == 200
    )
    published = dept_client.post(
        reverse("api:catalog-department-item-publish", args=[item.implementation_code]),
        {"change_note": "压缩时限"},
        format="json",
    )
    assert published.status_code == 201
    # then: the running case still points at version 1 and everything it derives from it
    case = Case.objects.select_related("item_version").get(pk=case.pk)
    assert case.item_version_id == version_1.pk
    assert (case.item_version.version, case.item_version.name) == (1, "食品经营许可")
    assert case.item_version.promised_limit_days == 5
    assert [m.key for m in case.item_version.materials.all()] == ["id-card", "application"]
    assert case.deadline == deadline
    # and: a case started now is on version 2
    current = get_item_for_apply(item.implementation_code)  # what the apply page uses
    new_case = draft(current, applicant, with_materials=False)
    assert (new_case.item_version.version, new_case.item_version.promised_limit_days) == (2, 3)
