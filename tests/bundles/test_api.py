"""Public read API of published bundles."""

from __future__ import annotations

import pytest

from django.urls import reverse

from tests.bundles.factories import birth_definition, published_birth_bundle

pytestmark = pytest.mark.django_db


def test_list_shows_published_only(client, department, django_assert_max_num_queries) -> None:
    # given: one published, one draft
    version = published_birth_bundle(department)
    birth_definition(department)
    # versions with bundle, department and theme (1)
    with django_assert_max_num_queries(1):
        response = client.get(reverse("api:bundles-list"))
    assert response.status_code == 200
    assert [row["code"] for row in response.json()] == [version.bundle.code]


def test_detail_has_graph_and_savings(client, department, django_assert_max_num_queries) -> None:
    version = published_birth_bundle(department)
    # version (1) + prefetches: partners, questions, edges, outputs, fields, field targets,
    # materials, material targets, components, their item versions, item materials (11);
    # constant in the number of components
    with django_assert_max_num_queries(12):
        response = client.get(reverse("api:bundles-detail", args=[version.bundle.code]))
    body = response.json()
    assert {"upstream": "cert", "downstream": "hukou"} in body["edges"]
    assert [c["key"] for c in body["components"]] == ["cert", "hukou", "insurance", "ssc"]
    assert body["components"][3]["condition"] == "needs_ssc"
    assert body["savings"]["forms"] == {"separate": 4, "bundle": 1}
    assert body["savings"]["materials"] == {"separate": 8, "bundle": 2}
    assert body["outputs"][0]["target_name"] == "birth_certificate_no"


def test_unknown_bundle_is_404(client, db) -> None:
    response = client.get(reverse("api:bundles-detail", args=["nope"]))
    assert response.status_code == 404
