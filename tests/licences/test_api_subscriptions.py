"""Status-change subscriptions over the department API (/api/v1/licences/subscription/)."""

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.handoffs.models import Handoff
from apps.licences.constants import LicenceAction
from apps.licences.models import StatusSubscription
from apps.licences.services import LicenceActor, change_licence_status
from tests.licences.factories import licence_type, person_licence
from tests.licences.test_api import client_with

pytestmark = pytest.mark.django_db

URL = "api:licences-subscription"


@pytest.fixture
def subscriber(other_department):
    return client_with(other_department, "licences:read")


def _revoke(licence):
    change_licence_status(
        licence_id=licence.pk,
        actor=LicenceActor.system(),
        action=LicenceAction.REVOKE,
        reason="违法驾驶",
    )


def test_subscribe_read_and_receive_then_unsubscribe(
    subscriber, department, other_department, django_assert_max_num_queries
):
    # given: nothing subscribed yet
    with django_assert_max_num_queries(4):
        empty = subscriber.get(reverse(URL))
    assert empty.json() == {"active": False, "licence_types": [], "updated_at": None}

    # when: subscribe to driving licences, twice with one Idempotency-Key
    code = licence_type().code
    with django_assert_max_num_queries(21):
        first = subscriber.post(
            reverse(URL), {"licence_types": [code]}, format="json", HTTP_IDEMPOTENCY_KEY="sub-0001"
        )
    second = subscriber.post(
        reverse(URL), {"licence_types": [code]}, format="json", HTTP_IDEMPOTENCY_KEY="sub-0001"
    )

    # then
    assert first.status_code == 200, first.content
    assert second["Idempotent-Replayed"] == "true"
    assert (first.json()["active"], first.json()["licence_types"]) == (True, [code])
    assert subscriber.get(reverse(URL)).json()["licence_types"] == [code]
    assert AuditEvent.objects.filter(action="licences.status_subscription").count() == 1

    # when: another department revokes a driving licence
    _revoke(person_licence(department))

    # then: it reaches the subscriber through the outbox
    assert list(Handoff.objects.values_list("target_department_id", "event")) == [
        (other_department.pk, "licence.revoked")
    ]

    # when: unsubscribe (twice: the second changes nothing)
    with django_assert_max_num_queries(12):
        gone = subscriber.delete(reverse(URL))
    again = subscriber.delete(reverse(URL))
    _revoke(person_licence(department))

    # then
    assert (gone.status_code, again.status_code) == (204, 204)
    assert subscriber.get(reverse(URL)).json()["active"] is False
    assert Handoff.objects.count() == 1
    assert AuditEvent.objects.filter(action="licences.status_unsubscription").count() == 1


def test_an_empty_list_subscribes_to_every_type(subscriber, other_department):
    response = subscriber.post(reverse(URL), {"licence_types": []}, format="json")
    assert response.status_code == 200
    sub = StatusSubscription.objects.get()
    assert (sub.department, sub.licence_types, sub.is_active) == (other_department, [], True)


@pytest.mark.parametrize(
    "body",
    [{}, {"licence_types": "all"}, {"licence_types": ["X" * 21]}, {"licence_types": ["X" * 22]}],
)
def test_bad_input_is_a_400_naming_the_field_and_changes_nothing(subscriber, body):
    response = subscriber.post(reverse(URL), body, format="json")
    assert response.status_code == 400
    assert "licence_types" in response.json()["errors"]
    assert not StatusSubscription.objects.exists()


def test_unknown_code_is_named_in_the_error(subscriber):
    response = subscriber.post(
        reverse(URL), {"licence_types": [licence_type().code, "X" * 21]}, format="json"
    )
    assert "X" * 21 in str(response.json()["errors"]["licence_types"])


def test_each_department_sees_and_ends_only_its_own(subscriber, department):
    # given: the other department subscribed
    subscriber.post(reverse(URL), {"licence_types": []}, format="json")
    mine = client_with(department, "licences:read")

    # when
    seen = mine.get(reverse(URL)).json()
    mine.delete(reverse(URL))

    # then
    assert seen["active"] is False
    assert StatusSubscription.objects.get().is_active is True


def test_subscriptions_need_the_licences_read_scope(other_department):
    client = client_with(other_department, "cases:read")
    assert client.get(reverse(URL)).status_code == 403
    assert client.post(reverse(URL), {"licence_types": []}, format="json").status_code == 403
    assert client.delete(reverse(URL)).status_code == 403
    assert not StatusSubscription.objects.exists()
