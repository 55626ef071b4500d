"""API wiring: the one error format, cursor pagination, the schema and docs."""

from datetime import date

import pytest

from apps.core.services import seed_calendar
from tests.core.factories import DepartmentFactory, RegionFactory

pytestmark = pytest.mark.django_db


def test_bad_request_uses_the_error_format(client) -> None:
    # when the deadline calculator gets a malformed date and a negative number of days
    response = client.get(
        "/api/v1/core/calendar/working-days/", {"start": "2026-13-40", "days": -1}
    )
    # then a 400 with code, detail and field errors
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "请求参数有误"
    assert set(body["errors"]) == {"start", "days"}
    assert all(isinstance(m, str) for m in body["errors"]["days"])


def test_not_found_uses_the_error_format(client) -> None:
    # (a malformed cursor is a bad parameter, 400: tests/core/test_api_parameters.py)
    response = client.get("/api/v1/catalog/items/no-such-item/")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert "detail" in response.json()


def test_working_days_endpoint_across_national_day(client) -> None:
    # given the seeded 2026 calendar
    seed_calendar(first_year=2020)
    # when a department asks for 5 working days from 2026-09-30
    response = client.get("/api/v1/core/calendar/working-days/", {"start": "2026-09-30", "days": 5})
    # then the DOMAIN.md worked example comes back
    assert response.status_code == 200
    body = response.json()
    assert body["deadline"] == "2026-10-13"
    assert body["deadline_at"].startswith("2026-10-13T23:59:59")
    assert body["calendar_known"] is True


def test_regions_are_cursor_paginated_with_constant_queries(
    client, django_assert_max_num_queries
) -> None:
    # given 30 regions under a province
    province = RegionFactory()
    for i in range(30):
        RegionFactory(code=f"36{i + 1:02d}00", name=f"市{i}", level=2, parent=province)
    # when two pages are fetched
    # queries: one page of regions joined with the parent
    with django_assert_max_num_queries(1):
        first = client.get("/api/v1/core/regions/", {"level": 2, "page_size": 20}).json()
    with django_assert_max_num_queries(1):
        second = client.get(first["next"]).json()
    # then the pages are disjoint, ordered by code, and there is no total count
    codes = [r["code"] for r in first["results"]] + [r["code"] for r in second["results"]]
    assert len(codes) == 30
    assert codes == sorted(codes)
    assert "count" not in first
    assert second["results"][0]["parent_code"] == "360000"


def test_departments_filter_by_region(client) -> None:
    dept = DepartmentFactory()
    response = client.get("/api/v1/core/departments/", {"region": "360000"})
    assert response.status_code == 200
    assert [d["uscc"] for d in response.json()["results"]] == [dept.uscc]
    assert client.get("/api/v1/core/departments/", {"region": "110000"}).json()["results"] == []


def test_openapi_schema_and_local_docs(client) -> None:
    schema = client.get("/api/schema/")
    assert schema.status_code == 200
    assert b"/api/v1/core/calendar/working-days/" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    # Swagger UI assets come from drf-spectacular-sidecar, served by us, never from a CDN
    assert b"/static/drf_spectacular_sidecar/" in docs.content
    assert b"cdn" not in docs.content.lower()
    asset = client.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200


def test_date_param(client) -> None:
    seed_calendar(first_year=2020)
    body = client.get(
        "/api/v1/core/calendar/working-days/", {"start": "2026-10-12", "days": 0}
    ).json()
    assert body["deadline"] == date(2026, 10, 12).isoformat()
