"""Status changes reach the subscribers through the handoff outbox (DOMAIN.md §3.7 point 4)."""

import pytest

from apps.handoffs.models import Handoff
from apps.licences.constants import LicenceAction
from apps.licences.services import (
    LicenceActor,
    change_licence,
    change_licence_status,
    expire_licences,
    subscribe_status_changes,
)
from tests.core.factories import DepartmentFactory
from tests.licences.factories import DRIVING, licence_type, person_licence

pytestmark = pytest.mark.django_db
REAL_IDENTIFIERS = [
    "1.2.156.3005.2.11100000000013338W011.11430000006122244L.20230000403.001.U",
    "1.2.156.3005.2.11100000000013338W009.11330105002500287C.2025052201.002.0",
    "1.2.156.3005.2.11100000MB03271699022.340100.000000016.001.9",
]


@pytest.fixture
def platform():
    """The national sharing platform: a department row subscribed to every type."""
    department = DepartmentFactory(name="全国一体化政务服务平台电子证照共享服务系统")
    subscribe_status_changes(department=department, licence_types=[])
    return department


def test_revocation_is_pushed_to_every_subscriber(department, other_department, platform):
    # given: another department subscribes to driving licences, the issuer to all (ignored)
    subscribe_status_changes(department=other_department, licence_types=[licence_type().code])
    subscribe_status_changes(department=department, licence_types=[])
    licence = person_licence(department)
    assert Handoff.objects.count() == 0  # issuing is no status change of an existing licence

    # when
    change_licence_status(
        licence_id=licence.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.REVOKE,
        reason="违法驾驶",
        legal_basis="《道路交通安全法》第九十一条",
    )

    # then: one handoff per subscriber other than the issuer, no holder data in the payload
    rows = list(Handoff.objects.order_by("target_department_id"))
    assert {r.target_department_id for r in rows} == {other_department.pk, platform.pk}
    for row in rows:
        assert row.event == "licence.revoked"
        assert row.source_department_id == department.pk
        assert row.subject_type == "licences.licence"
        assert row.payload["certificate_identifier"] == licence.identifier
        assert row.payload["cd_operation"] == "U"
        assert row.payload["legal_basis"] == "《道路交通安全法》第九十一条"
        assert licence.holder_name not in str(row.payload)
        assert licence.holder_code not in str(row.payload)


def test_type_filter_and_supersession(department, other_department, platform):
    subscribe_status_changes(department=other_department, licence_types=["X" * 21])
    licence = person_licence(department)

    new = change_licence(
        licence_id=licence.pk, actor=LicenceActor.system(), kind="renew", reason="延续"
    )

    row = Handoff.objects.get()
    assert row.target_department_id == platform.pk
    assert row.event == "licence.superseded"
    assert row.payload["superseded_by"] == new.identifier


def test_suspension_and_expiry_are_pushed(department, platform):
    from datetime import date, timedelta

    suspended = person_licence(department, name=DRIVING)
    change_licence_status(
        licence_id=suspended.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.SUSPEND,
        reason="挂失",
    )
    ending = person_licence(department, valid_from=date(2020, 1, 1), valid_until=date(2020, 12, 31))
    expire_licences(today=date(2021, 1, 1) + timedelta(days=1))

    assert sorted(Handoff.objects.values_list("event", "subject_id")) == sorted(
        [("licence.suspended", str(suspended.pk)), ("licence.expired", str(ending.pk))]
    )


def test_no_subscriber_no_handoff(department):
    licence = person_licence(department)
    change_licence_status(
        licence_id=licence.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.CANCEL,
        reason="死亡",
    )
    assert Handoff.objects.count() == 0


def test_real_status_payloads_pass_the_national_platforms_field_check(department, platform):
    """Contract with the simulator playing the national sharing platform: every kind of status
    change the portal pushes, as the outbox builds the envelope, passes its field check."""
    from datetime import date

    from stdnum.iso7064 import mod_37_36

    from apps.handoffs.services.delivery import build_envelope
    from apps.handoffs.simulator import national_licences
    from apps.licences.constants import LicenceStatus

    # the simulator's code lists and its own MOD 37,36 agree with the portal's
    assert set(LicenceStatus.values) == national_licences.STATUSES
    assert set(LicenceAction.values) == national_licences.ACTIONS
    for body in ("11100000000013338W001111000000000013338W1234567890001", "A1Z9"):
        assert national_licences.mod_37_36(body) == mod_37_36.calc_check_digit(body)
    for real in REAL_IDENTIFIERS:  # DOMAIN.md §3.2
        assert national_licences.parse_identifier(real) is not None
        assert national_licences.parse_identifier(real[:-1] + "7") is None
    # given: a revocation whose reason carries a mobile number, a suspension, a renewal
    # (supersession), an expiry, a resumption and a cancellation
    revoked = person_licence(department)
    change_licence_status(
        licence_id=revoked.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.REVOKE,
        reason="持证人（电话13500001111）饮酒后驾驶",
        legal_basis="《道路交通安全法》第九十一条",
    )
    suspended = person_licence(department)
    for action in (LicenceAction.SUSPEND, LicenceAction.RESUME, LicenceAction.CANCEL):
        change_licence_status(
            licence_id=suspended.pk, actor=LicenceActor.system(), action=action, reason="挂失"
        )
    renewed = person_licence(department)
    change_licence(licence_id=renewed.pk, actor=LicenceActor.system(), kind="renew", reason="延续")
    person_licence(department, valid_from=date(2020, 1, 1), valid_until=date(2020, 12, 31))
    expire_licences(today=date(2021, 1, 2))
    # when: the simulator checks each envelope the outbox would send
    handoffs = list(Handoff.objects.select_related("source_department", "target_department"))
    events = sorted(h.event for h in handoffs)
    assert events == sorted(
        f"licence.{s}"
        for s in ("revoked", "suspended", "valid", "cancelled", "superseded", "expired")
    )
    for handoff in handoffs:
        envelope = build_envelope(handoff)
        # then: no error, and no personal number left the portal
        assert national_licences.check(envelope) == [], envelope
        assert "13500001111" not in str(envelope)
    revocation = next(h for h in handoffs if h.event == "licence.revoked")
    assert revocation.payload["reason"] == "持证人（电话135****1111）饮酒后驾驶"


@pytest.mark.parametrize(
    ("change", "error"),
    [
        ({"certificate_identifier": "1.2.156.3005.2.X"}, "certificate_identifier: not a GB/T"),
        ({"status": "gone"}, "status: not in the code list"),
        ({"status": "expired"}, "event: does not match status"),
        ({"reason": ""}, "reason: required"),
        ({"holder_code": "x"}, "holder data: not shared"),
        ({"reason": "身份证 11010519491231002X"}, "personal number in clear"),
        ({"occurred_at": "2026-12-05"}, "occurred_at: expected ISO 8601"),
        ({"issuer_code": "11360100D00000144P"}, "issuer_code: does not match"),
        ({"superseded_by": "x"}, "superseded_by: only for a superseded licence"),
        ({"cd_operation": "I"}, "cd_operation: expected U"),
    ],
)
def test_the_national_field_check_names_what_is_wrong(department, platform, change, error):
    from apps.handoffs.services.delivery import build_envelope
    from apps.handoffs.simulator import national_licences

    licence = person_licence(department)
    change_licence_status(
        licence_id=licence.pk, actor=LicenceActor.system(), action="revoke", reason="违法"
    )
    envelope = build_envelope(Handoff.objects.select_related().get())
    envelope["payload"] = {**envelope["payload"], **change}
    assert any(e.startswith(error) for e in national_licences.check(envelope))
