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
