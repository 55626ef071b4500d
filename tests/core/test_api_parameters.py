"""Issue 15 §2: a bad query parameter answers 400 in the API error format, never 500."""

import pytest

from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("_case", "query"),
    [
        ("level not a number", "level=abc"),
        ("level repeated", "level=null&level=null"),
        ("level not a department level", "level=9"),
        ("audience unknown", "audience=martian"),
        ("item type unknown", "item_type=99"),
        ("page not a number", "page=abc"),
        ("page size not a number", "page_size=abc"),
        ("NUL in a filter", "department=%00"),
        ("NUL in the search", "search=a%00b"),
    ],
)
def test_the_catalogue_list_refuses_bad_parameters(
    _case, query, django_assert_max_num_queries
) -> None:
    # (queries: none, the parameters are refused before the database is asked)
    with django_assert_max_num_queries(0):
        response = Client().get(f"/api/v1/catalog/items/?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body) == {"code", "detail", "errors"}


@pytest.mark.parametrize(
    ("_case", "path"),
    [
        ("region level", "/api/v1/core/regions/?level=abc"),
        ("cursor", "/api/v1/core/regions/?cursor=not-a-cursor"),
        ("page size", "/api/v1/core/departments/?page_size=-1"),
        ("working days", "/api/v1/core/calendar/working-days/?start=2026-13-01&days=1"),
    ],
)
def test_core_lists_refuse_bad_parameters(_case, path) -> None:
    response = Client().get(path)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid"


def test_a_valid_level_still_filters() -> None:
    response = Client().get("/api/v1/catalog/items/?level=3")
    assert response.status_code == 200


def test_an_unknown_api_url_answers_json_404() -> None:
    response = Client().get("/api/v1/cases/0.1/")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_a_nul_in_a_page_query_is_400_not_500() -> None:
    response = Client().get("/catalog/?department=%00")
    assert response.status_code == 400


def test_a_bad_level_on_the_catalogue_page_is_no_server_error() -> None:
    response = Client().get("/catalog/?level=a")
    assert response.status_code == 200
