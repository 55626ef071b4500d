"""Expiry reminders: notices N days ahead, once per threshold, with the renewal link."""

from datetime import date

import pytest

from apps.licences.services import remind_expiring_licences
from apps.licences.tasks import remind_expiring_licences as remind_task
from apps.notifications.models import Notification
from tests.identity.factories import EnterpriseFactory, verified_user
from tests.licences.factories import enterprise_licence, licence_type, person_licence

pytestmark = pytest.mark.django_db

TODAY = date(2027, 3, 1)


def _licence(department, until, **kw):
    return person_licence(department, valid_from=date(2026, 1, 1), valid_until=until, **kw)


def test_holders_are_reminded_once_per_threshold(department, settings):
    # given: thresholds 30 and 7 days; licences ending in 30, 7 and 75 days
    settings.LICENCE_EXPIRY_REMINDER_DAYS = [30, 7]
    in_30 = _licence(department, date(2027, 3, 31), holder=verified_user("甲一"))
    in_7 = _licence(department, date(2027, 3, 8), holder=verified_user("乙二"))
    _licence(department, date(2027, 5, 15), holder=verified_user("丙三"))

    # when: the task runs twice the same day, then on the day the first crosses 7 days
    assert remind_expiring_licences(today=TODAY) == 2
    assert remind_expiring_licences(today=TODAY) == 0
    assert remind_expiring_licences(today=date(2027, 3, 24)) == 1

    # then
    notices = Notification.objects.order_by("pk")
    assert [(n.recipient_id, n.key) for n in notices] == [
        (in_7.holder_user_id, f"licence-expiry:{in_7.pk}:7"),
        (in_30.holder_user_id, f"licence-expiry:{in_30.pk}:30"),
        (in_30.holder_user_id, f"licence-expiry:{in_30.pk}:7"),
    ]
    assert "2027-03-08" in notices[0].title
    assert notices[0].url == f"/licences/{in_7.pk}/"


def test_renewal_item_is_linked_and_enterprise_people_are_told(department, settings):
    settings.LICENCE_EXPIRY_REMINDER_DAYS = [30]
    kind = licence_type("食品经营许可证")
    kind.renewal_item_code = "11360100MB0000000X1000123456"
    kind.save(update_fields=["renewal_item_code"])
    enterprise = EnterpriseFactory()
    enterprise_licence(
        department,
        enterprise=enterprise,
        name="食品经营许可证",
        face_data={"MC": enterprise.name, "JYCS": "南昌市", "ZTYT": "餐饮", "JYXM": "热食"},
        valid_from=date(2026, 1, 1),
        valid_until=date(2027, 3, 20),
    )

    remind_expiring_licences(today=TODAY)

    notice = Notification.objects.get()
    assert notice.recipient_id == enterprise.legal_representative_id
    assert notice.url == "/catalog/items/11360100MB0000000X1000123456/"
    assert "请及时办理延续" in notice.body


def test_the_beat_task_runs_the_service(department, settings):
    settings.LICENCE_EXPIRY_REMINDER_DAYS = []
    assert remind_task() == 0
