"""Department API: pull inbox, ack by id, answers — scope ``handoffs``, scoped to the client's
department (STYLE.md Q6 matrix)."""

from __future__ import annotations

import pytest

from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.handoffs.constants import HandoffState
from apps.handoffs.models import Handoff, HandoffAnswer
from apps.handoffs.registry import register_answer_handler, unregister_answer_handler
from tests.handoffs.factories import HandoffFactory
from tests.identity.factories import ApiClientFactory, UserFactory, issue_token

pytestmark = pytest.mark.django_db

INBOX = "/api/v1/handoffs/inbox/"


def _client_for(department, scopes: str = "handoffs") -> APIClient:
    api_client = ApiClientFactory(department=department, allowed_scopes=scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {issue_token(api_client, scopes).token}")
    return client


@pytest.fixture
def handoff(department, other_department) -> Handoff:
    """A handoff from other_department delivered into department's inbox."""
    return HandoffFactory(
        source_department=other_department,
        target_department=department,
        state=HandoffState.DELIVERED,
    )


@pytest.mark.parametrize(
    ("_case", "actor", "inbox_status", "ack_status"),
    [
        ("anonymous", "anonymous", 401, 401),
        ("staff_session", "staff", 403, 403),
        ("client_without_scope", "no_scope", 403, 403),
        ("other_department_client", "other", 200, 404),
        ("target_department_client", "target", 200, 200),
    ],
)
def test_permission_matrix(
    _case, actor, inbox_status, ack_status, handoff, department, other_department
) -> None:
    # given an actor
    if actor == "anonymous":
        client = APIClient()
    elif actor == "staff":
        client = APIClient()
        client.force_login(UserFactory(staff=True))
    elif actor == "no_scope":
        client = _client_for(department, "cases:read")
    elif actor == "other":
        client = _client_for(other_department)
    else:
        client = _client_for(department)
    # when it reads the inbox and acks the handoff
    inbox = client.get(INBOX)
    ack = client.post(f"{INBOX}{handoff.pk}/ack/")
    # then only the target department's client sees and acks it
    assert inbox.status_code == inbox_status
    assert ack.status_code == ack_status
    handoff.refresh_from_db()
    expected = HandoffState.ACKNOWLEDGED if actor == "target" else HandoffState.DELIVERED
    assert handoff.state == expected
    if inbox_status == 200:
        ids = [row["handoff_id"] for row in inbox.json()["results"]]
        assert ids == ([handoff.pk] if actor == "target" else [])


def test_inbox_pages_oldest_first_and_ack_is_idempotent(
    department, other_department, django_assert_max_num_queries
) -> None:
    # given three open handoffs for department
    rows = HandoffFactory.create_batch(
        3, source_department=other_department, target_department=department
    )
    client = _client_for(department)
    # when the inbox is read two at a time
    # queries: token + application + api client + department; handoffs with departments
    with django_assert_max_num_queries(6):
        first = client.get(INBOX, {"limit": 2}).json()
    second = client.get(INBOX, {"limit": 2, "after": first["next_after"]}).json()
    # then pages follow ids, with the envelope a push would carry
    assert [row["handoff_id"] for row in first["results"]] == [rows[0].pk, rows[1].pk]
    assert [row["handoff_id"] for row in second["results"]] == [rows[2].pk]
    assert first["results"][0]["idempotency_key"] == rows[0].idempotency_key
    assert first["results"][0]["payload"] == rows[0].payload
    # and acking twice gives the same answer without a second effect
    one = client.post(f"{INBOX}{rows[0].pk}/ack/")
    two = client.post(f"{INBOX}{rows[0].pk}/ack/")
    assert one.status_code == two.status_code == 200
    assert one.json()["acknowledged_at"] == two.json()["acknowledged_at"]
    assert [row["handoff_id"] for row in client.get(INBOX).json()["results"]] == [
        rows[1].pk,
        rows[2].pk,
    ]


def test_answer_api_applies_once_and_repeats_return_200(handoff, department) -> None:
    # given a handler for the subject type
    calls = []
    register_answer_handler("test.subject", lambda **kw: calls.append(kw["answer"].pk))
    client = _client_for(department)
    url = f"/api/v1/handoffs/{handoff.pk}/answers/"
    body = {"kind": "decision", "idempotency_key": "dec-000001", "data": {"result": "approved"}}
    try:
        # when the department posts the same decision twice
        first = client.post(url, body, format="json")
        second = client.post(url, body, format="json")
    finally:
        unregister_answer_handler("test.subject")
    # then 201 then 200 with the same answer, applied once
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["answer_id"] == second.json()["answer_id"]
    assert first.json()["applied"] is True
    assert calls == [first.json()["answer_id"]]


def test_answer_api_validates_input_and_writes_nothing(handoff, department) -> None:
    # given the target client
    client = _client_for(department)
    # when it posts an unknown kind and a too-short key
    response = client.post(
        f"/api/v1/handoffs/{handoff.pk}/answers/",
        {"kind": "maybe", "idempotency_key": "x"},
        format="json",
    )
    # then 400 with field errors and no answer
    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"kind", "idempotency_key"}
    assert HandoffAnswer.objects.count() == 0


def test_answer_api_for_another_departments_handoff_is_404(handoff, other_department) -> None:
    # given the source department's client (not the target)
    client = _client_for(other_department)
    # when it answers
    response = client.post(
        f"/api/v1/handoffs/{handoff.pk}/answers/",
        {"kind": "received", "idempotency_key": "rcv-000001"},
        format="json",
    )
    # then 404 and nothing recorded
    assert response.status_code == 404
    assert HandoffAnswer.objects.count() == 0


def test_batch_ack_acknowledges_own_handoffs_and_reports_others(
    department, other_department, django_assert_max_num_queries
) -> None:
    # given two handoffs in the department's inbox and one of another department
    mine = HandoffFactory.create_batch(
        2, source_department=other_department, target_department=department
    )
    foreign = HandoffFactory(source_department=department, target_department=other_department)
    client = _client_for(department)
    # when its system acknowledges the page, the foreign id and an unknown id included
    ids = [mine[0].pk, mine[1].pk, foreign.pk, 999999]
    # queries: token + application + api client + department; lock the rows; per changed row:
    # update + audit (lock head, read previous, insert, move head)
    with django_assert_max_num_queries(20):
        response = client.post(f"{INBOX}ack/", {"handoff_ids": ids}, format="json")
    # then exactly its own are acknowledged (audited); the others are reported, untouched
    assert response.status_code == 200
    assert response.json() == {
        "acknowledged": [mine[0].pk, mine[1].pk],
        "not_found": sorted([foreign.pk, 999999]),
    }
    states = Handoff.objects.filter(pk__in=[h.pk for h in mine]).values_list("state", flat=True)
    assert set(states) == {HandoffState.ACKNOWLEDGED}
    assert Handoff.objects.get(pk=foreign.pk).state == HandoffState.PENDING
    assert AuditEvent.objects.filter(action="handoffs.acknowledged").count() == 2
    # and repeating it changes nothing
    again = client.post(f"{INBOX}ack/", {"handoff_ids": ids}, format="json")
    assert again.json()["acknowledged"] == [mine[0].pk, mine[1].pk]
    assert AuditEvent.objects.filter(action="handoffs.acknowledged").count() == 2


@pytest.mark.parametrize(
    ("_case", "body"),
    [("empty", {"handoff_ids": []}), ("not ids", {"handoff_ids": ["x"]}), ("missing", {})],
)
def test_batch_ack_validates_input(_case, body, department) -> None:
    response = _client_for(department).post(f"{INBOX}ack/", body, format="json")
    assert response.status_code == 400
    assert "handoff_ids" in response.json()["errors"]
