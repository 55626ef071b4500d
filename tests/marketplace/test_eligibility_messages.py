"""The refusal that names missing qualifications lists them in the interface language."""

import pytest

from django.utils import timezone, translation

from apps.marketplace.services.common import eligibility_problem
from tests.marketplace.factories import ENV_EVAL, IntermediaryServiceFactory, listed_agency

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("language", "expected"),
    [("zh-hans", "机构资质不满足要求：SAFE、SURVEY"), ("en", "SAFE, SURVEY")],
)
def test_missing_qualifications_are_listed_in_the_interface_language(language, expected) -> None:
    # given a listed agency qualified for the service as first published
    service = IntermediaryServiceFactory()
    agency = listed_agency(service)
    # when the list later requires two qualifications the agency does not hold
    service.required_qualifications = [
        dict(ENV_EVAL),
        {"code": "SAFE", "name": "安全评价资质", "min_grade": 1},
        {"code": "SURVEY", "name": "测绘资质", "min_grade": 1},
    ]
    service.save()
    with translation.override(language):
        problem = eligibility_problem(agency, service, timezone.localdate())
    # then both codes are named, joined as the language lists things
    assert expected in problem
