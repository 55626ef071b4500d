"""Property: over random dependency graphs and random decision orders, every child starts only
after all its upstream components are decided (and granted), no child case is created twice,
and the application's status always matches its children."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from apps.bundles import services
from apps.bundles.constants import ApplicationStatus, ChildState
from apps.bundles.models import BundleApplication, BundleChild
from apps.bundles.services import effective_state, is_granted
from apps.cases.constants import Decision
from apps.cases.models import Case
from tests.bundles.factories import FORM, files_for
from tests.bundles.test_orchestration import _decide
from tests.cases.factories import citizen
from tests.catalog.factories import published_item, superuser

pytestmark = pytest.mark.django_db


@st.composite
def dags(draw: Any) -> tuple[int, list[tuple[int, int]]]:
    n = draw(st.integers(min_value=2, max_value=4))
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    edges = draw(st.lists(st.sampled_from(pairs), unique=True, max_size=len(pairs)))
    return n, edges


def _check(application: BundleApplication, edges: list[tuple[str, str]]) -> None:
    children = {
        c.component.key: c
        for c in BundleChild.objects.filter(application=application).select_related(
            "component", "case"
        )
    }
    for key, child in children.items():
        if child.case_id is not None:
            for upstream, downstream in edges:
                if downstream == key:
                    assert is_granted(children[upstream]), (upstream, key)
    cases = Case.objects.filter(bundle_child__application=application).count()
    assert cases == sum(1 for c in children.values() if c.case_id is not None)
    application.refresh_from_db()
    expected = services.derive_status(
        [(effective_state(c), is_granted(c)) for c in children.values()]
    )
    assert application.status == expected


def test_random_graphs_and_decision_orders(department, django_capture_on_commit_callbacks) -> None:
    items = [published_item(department)[0] for _ in range(4)]
    user = citizen()

    @settings(
        max_examples=8,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(dags(), st.data())
    def run(dag: tuple[int, list[tuple[int, int]]], data: Any) -> None:
        n, pairs = dag
        keys = [f"c{i}" for i in range(n)]
        edges = [(keys[i], keys[j]) for i, j in pairs]
        draft = services.define_bundle(
            actor=superuser(),
            code=f"prop-{BundleApplication.objects.count()}-{data.draw(st.uuids()).hex[:8]}",
            name="随机一件事",
            lead_department=department,
            promised_limit_days=10,
            components=[{"key": k, "item": items[i]} for i, k in enumerate(keys)],
            edges=edges,
        )
        version = services.publish_bundle_version(actor=superuser(), version_id=draft.pk)
        with django_capture_on_commit_callbacks(execute=True):
            application = services.submit_bundle_application(
                user=user,
                version_id=version.pk,
                answers={},
                form_data=FORM,
                files=files_for(version),
            )
        _check(application, edges)
        for _step in range(n):
            open_children = list(
                BundleChild.objects.filter(
                    application=application, state=ChildState.SUBMITTED
                ).select_related("case")
            )
            if not open_children:
                break
            child = data.draw(st.sampled_from(open_children))
            decision = data.draw(st.sampled_from([Decision.APPROVED, Decision.DENIED]))
            with django_capture_on_commit_callbacks(execute=True):
                _decide(child, decision=decision)
            _check(application, edges)
        application.refresh_from_db()
        assert application.status != ApplicationStatus.IN_PROGRESS

    run()
