"""The Django admin path: endpoint changes are audited, the bulk retry goes through the service."""

from __future__ import annotations

import pytest

from django.test import Client

from apps.audit.models import AuditEvent
from apps.handoffs.constants import DeliveryMode, HandoffState
from apps.handoffs.models import DepartmentEndpoint, Handoff
from tests.handoffs.factories import DepartmentEndpointFactory, HandoffFactory
from tests.identity.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client() -> Client:
    client = Client()
    client.force_login(UserFactory(admin=True))
    return client


def _inline_management(prefix: str = "keys", total: int = 0, initial: int = 0) -> dict:
    return {
        f"{prefix}-TOTAL_FORMS": str(total),
        f"{prefix}-INITIAL_FORMS": str(initial),
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }


def test_endpoint_change_in_the_admin_is_audited_with_its_keys(admin_client, department) -> None:
    # given a platform administrator in the Django admin
    # when they configure a push endpoint with a signing key
    response = admin_client.post(
        "/admin/handoffs/departmentendpoint/add/",
        {
            "department": department.pk,
            "mode": DeliveryMode.PUSH,
            "push_url": "https://dept.example.gov.cn/hook",
            "timeout_seconds": "10",
            "max_attempts": "10",
            "replay_window_seconds": "300",
            "is_active": "on",
            **_inline_management(total=1),
            "keys-0-key_id": "k2026",
            "keys-0-secret": "secret-from-the-admin-0123456789",
            "keys-0-is_active": "on",
        },
    )
    # then it is saved and one audit event says who, what and with which keys
    assert response.status_code == 302, response.content.decode()[:2000]
    endpoint = DepartmentEndpoint.objects.get(department=department)
    assert endpoint.push_url == "https://dept.example.gov.cn/hook"
    event = AuditEvent.objects.get(action="handoffs.endpoint_configured")
    assert event.data == {
        "department": department.pk,
        "mode": "push",
        "push_url": "https://dept.example.gov.cn/hook",
        "via": "admin",
        "keys": ["k2026"],
    }
    assert event.object_id == str(endpoint.pk)


def test_invalid_endpoint_in_the_admin_is_refused_and_not_audited(admin_client, department):
    response = admin_client.post(
        "/admin/handoffs/departmentendpoint/add/",
        {
            "department": department.pk,
            "mode": DeliveryMode.PUSH,
            "push_url": "",
            "timeout_seconds": "99",
            "max_attempts": "10",
            "replay_window_seconds": "300",
            **_inline_management(),
        },
    )
    assert response.status_code == 200  # the form again, with errors
    assert not DepartmentEndpoint.objects.exists()
    assert not AuditEvent.objects.filter(action="handoffs.endpoint_configured").exists()


def test_bulk_retry_in_the_admin_retries_dead_letters_only(
    admin_client, department, other_department
) -> None:
    # given two dead letters and one live handoff
    DepartmentEndpointFactory(department=other_department, mode=DeliveryMode.INTERNAL)
    dead = [
        HandoffFactory(
            source_department=department,
            target_department=other_department,
            state=HandoffState.DEAD,
            attempts=10,
        )
        for _ in range(2)
    ]
    live = HandoffFactory(source_department=department, target_department=other_department)
    # when the administrator runs the bulk action on all three
    response = admin_client.post(
        "/admin/handoffs/handoff/",
        {
            "action": "retry_dead_letters",
            "_selected_action": [h.pk for h in (*dead, live)],
        },
        follow=True,
    )
    # then the dead letters are pending again with a fresh budget, each audited; the live one
    # is reported and left alone
    page = response.content.decode()
    assert response.status_code == 200
    assert "已重试 2 条死信" in page
    assert f"#{live.pk}" in page
    for handoff in dead:
        row = Handoff.objects.filter(pk=handoff.pk).values("state", "attempts").get()
        assert row == {"state": HandoffState.PENDING, "attempts": 0}
    assert Handoff.objects.filter(pk=live.pk).values_list("state", flat=True).get() == "pending"
    retried = AuditEvent.objects.filter(action="handoffs.retried")
    assert sorted(int(e.object_id) for e in retried) == sorted(h.pk for h in dead)
