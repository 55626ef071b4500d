"""A search whose other filters exclude every item answers an empty page, not a server error."""

import pytest

from tests.catalog.factories import published_item
from tests.core.factories import DepartmentFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "params",
    [
        {"search": "登记", "region": "<"},
        {"search": "^y", "department": "î\x02\x1d", "region": "<", "item_type": "05"},
    ],
)
def test_search_with_filters_that_exclude_everything(client, params) -> None:
    # given a published item
    published_item(DepartmentFactory())
    # when a search is combined with filters no item can match
    response = client.get("/api/v1/catalog/items/", params)
    # then the answer is an empty page (or a 400 naming the bad filter), never a 500
    assert response.status_code in (200, 400)
    if response.status_code == 200:
        assert response.json()["results"] == []
