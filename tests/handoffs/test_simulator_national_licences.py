"""The department simulator playing the national e-licence sharing platform
(``--national-licences``).

A licence's status changes (here a revocation and a renewal, i.e. supersession) go through the
handoff outbox; a real Celery worker on the real Redis broker pushes them, signed, to the
simulator process, which verifies the signature, checks the licence status fields, stores each
change once and acknowledges it with the platform's body. A payload outside the interface is
refused for good.
"""

from __future__ import annotations

import json

import pytest

from apps.handoffs import services as handoff_services
from apps.handoffs.constants import AttemptOutcome, HandoffState
from apps.handoffs.models import Handoff, HandoffAttempt
from apps.licences.constants import LicenceAction
from apps.licences.services import (
    LicenceActor,
    change_licence,
    change_licence_status,
)
from tests.conftest import wait_until
from tests.handoffs.factories import push_endpoint
from tests.licences.factories import person_licence

SECRET = "national-licences-secret-0123456789abcdef"
ROWS = "SELECT identifier, event, status, superseded_by FROM licence_status ORDER BY identifier"


@pytest.mark.worker
@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_revocation_and_supersession_reach_the_national_platform_once(
    platform, department, department_simulator, celery_worker_factory
) -> None:
    # given the national platform (the simulator) holding the signing key, and a worker
    simulator = department_simulator("--key", f"k1={SECRET}", "--national-licences")
    push_endpoint(platform, simulator, secret=SECRET)
    worker = celery_worker_factory()
    revoked, renewed = person_licence(department), person_licence(department)
    # when the department revokes one licence and renews the other
    change_licence_status(
        licence_id=revoked.pk,
        actor=LicenceActor(department=department),
        action=LicenceAction.REVOKE,
        reason="饮酒后驾驶",
        legal_basis="《道路交通安全法》第九十一条",
    )
    new = change_licence(
        licence_id=renewed.pk,
        actor=LicenceActor(department=department),
        kind="renew",
        reason="延续",
    )
    # then the worker pushes both, signed; the platform checks, stores and acknowledges them
    assert wait_until(
        lambda: Handoff.objects.filter(state=HandoffState.ACKNOWLEDGED).count() == 2, timeout=25
    ), simulator.log() + worker.log()
    assert simulator.outcomes() == {"stored": 2}
    assert sorted(simulator.query(ROWS)) == sorted(
        [
            (revoked.identifier, "licence.revoked", "revoked", None),
            (renewed.identifier, "licence.superseded", "superseded", new.identifier),
        ]
    )
    stored = json.loads(simulator.query("SELECT payload FROM licence_status")[0][0])
    assert revoked.holder_code not in json.dumps(stored)
    attempt = HandoffAttempt.objects.filter(handoff__event="licence.revoked").get()
    assert attempt.status_code == 200
    # and a repeated delivery (as after a lost acknowledgement) is acknowledged, not stored twice
    handoff = Handoff.objects.get(event="licence.revoked")
    Handoff.objects.filter(pk=handoff.pk).update(state=HandoffState.PENDING)
    assert handoff_services.deliver_handoff(handoff_id=handoff.pk) == "acknowledged"
    assert simulator.outcomes() == {"stored": 2, "duplicate": 1}
    assert simulator.query("SELECT COUNT(*) FROM licence_status") == [(2,)]


@pytest.mark.django_db
def test_the_national_platform_refuses_a_status_payload_outside_the_interface(
    platform, department, department_simulator
) -> None:
    # given the national platform, and a status change carrying holder data and a forged
    # identifier
    simulator = department_simulator("--key", f"k1={SECRET}", "--national-licences")
    push_endpoint(platform, simulator, secret=SECRET)
    handoff = handoff_services.enqueue_handoff(
        subject=handoff_services.SubjectRef(type="licences.licence", id="1"),
        event="licence.revoked",
        source_department=department,
        target_department=platform,
        payload={
            "cd_operation": "U",
            "certificate_identifier": "1.2.156.3005.2.FORGED",
            "status": "revoked",
            "holder_code": "11010519491231002X",
        },
        idempotency_key="licence-status-bad",
    )
    # when the portal delivers it
    outcome = handoff_services.deliver_handoff(handoff_id=handoff.pk)
    # then it is refused with 400 (a dead letter at once), nothing is stored, and the error
    # names the fields
    assert outcome == "dead"
    assert simulator.outcomes() == {"refused_fields": 1}
    assert simulator.query("SELECT COUNT(*) FROM licence_status") == [(0,)]
    attempt = HandoffAttempt.objects.get(handoff=handoff)
    assert (attempt.status_code, attempt.outcome) == (400, AttemptOutcome.FAILED)
    for error in ("holder data: not shared", "certificate_identifier: not a GB/T", "required"):
        assert error in attempt.error
