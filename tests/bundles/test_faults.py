"""Fault test: a real worker on the real Redis broker is killed (SIGKILL) in the middle of
orchestrating bundle applications, then a new one starts; afterwards every application has
exactly its expected child cases and none is stuck.

200 applications, one kill while the first children are being created and one in the middle
of the fan-in; the counts are printed. ``python -m bench bundles`` (bench/bench_bundles.py) runs
the same with timings."""

from __future__ import annotations

import pytest

from django.conf import settings

from apps.bundles import services
from apps.bundles.constants import ChildState
from apps.bundles.models import BundleApplication, BundleChild
from apps.cases.models import Case
from apps.licences.seed import ensure_seed_catalogue
from tests.bundles.factories import FORM, files_for, published_birth_bundle
from tests.bundles.test_orchestration import _decide
from tests.cases.factories import citizen
from tests.conftest import wait_until

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.worker, pytest.mark.slow]

N = 200


def _submitted(key: str) -> int:
    return BundleChild.objects.filter(component__key=key, state=ChildState.SUBMITTED).count()


def test_killed_worker_creates_no_duplicates_and_loses_nothing(
    department, celery_worker_factory
) -> None:
    env = {
        "BUNDLE_SWEEP_INTERVAL_SECONDS": "2",
        "BUNDLE_CLAIM_LEASE_SECONDS": "5",
        "BUNDLE_SWEEP_STALE_SECONDS": "5",
        "CASES_UPLOAD_ROOT": str(settings.CASES_UPLOAD_ROOT),
    }
    # A previous transactional test's flush may have been the session's last (no re-seed).
    ensure_seed_catalogue()
    version = published_birth_bundle(department)
    # One applicant each: 出生医学证明 is one licence per holder, so one holder's decisions
    # would replace each other's licence while the worker reads it.
    users = [citizen() for _ in range(N)]
    worker = celery_worker_factory(env=env, beat=True)
    # given: N applications submitted; the worker is killed while starting their roots
    for user in users:
        services.submit_bundle_application(
            user=user,
            version_id=version.pk,
            answers={"needs_ssc": "no"},
            form_data=FORM,
            files=files_for(version),
        )
    assert wait_until(lambda: Case.objects.count() >= N // 4, timeout=120), worker.log()
    worker.kill()
    print("roots with a case when killed:", Case.objects.count())  # noqa: T201
    # when: a new worker (with the sweeper) takes over
    worker = celery_worker_factory(env=env, beat=True)
    assert wait_until(lambda: _submitted("cert") == N, timeout=600), worker.log()
    # then: exactly one case per root
    assert Case.objects.count() == N
    # given: every root decided; the worker is killed while fanning in
    for child in BundleChild.objects.filter(component__key="cert").select_related("case"):
        _decide(child, certificate_no=f"Q{child.pk}")
    assert wait_until(lambda: _submitted("hukou") >= N // 4, timeout=120), worker.log()
    worker.kill()
    print("second children started when killed:", _submitted("hukou"))  # noqa: T201
    worker = celery_worker_factory(env=env, beat=True)
    assert wait_until(lambda: _submitted("hukou") == N, timeout=600), worker.log()
    # then: exactly two cases each, the number flowed in, nothing stuck
    counts = {
        a.pk: a.children.filter(case__isnull=False).count() for a in BundleApplication.objects.all()
    }
    print("applications:", len(counts), "cases:", Case.objects.count())  # noqa: T201
    assert set(counts.values()) == {2}
    assert Case.objects.count() == 2 * N
    assert not BundleChild.objects.filter(state=ChildState.STARTING).exists()
    assert (
        BundleChild.objects.filter(component__key="insurance", state=ChildState.WAITING).count()
        == N
    )
    for child in BundleChild.objects.filter(component__key="hukou").select_related("case"):
        assert child.case.form_data["birth_certificate_no"].startswith("Q")
