"""Departments answer through the case API with ``Idempotency-Key`` (issue 6, Deliver 2).

A repeat with the same key has no second effect and gets the first result; the same key for a
different request is a 422; concurrent identical requests never 500. The handoffs answer
endpoint follows the same rules.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import timedelta

import pytest

from django.db import connection
from django.urls import reverse
from django.utils import timezone

from apps.cases.constants import CaseStatus
from apps.cases.models import Case
from apps.handoffs import idempotency
from apps.handoffs.constants import HandoffState
from apps.handoffs.models import HandoffAnswer, IdempotentRequest
from apps.handoffs.registry import register_answer_handler, unregister_answer_handler
from tests.cases.factories import case_in, citizen, clerk_of, item_version, reviewer_of
from tests.handoffs.factories import HandoffFactory

pytestmark = pytest.mark.django_db

KEY = "dept-decision-0001"


@pytest.fixture
def make_case(department):
    version = item_version(department)
    applicant, clerk, reviewer = citizen(), clerk_of(department), reviewer_of(department)

    def make(status: str = CaseStatus.ACCEPTED) -> Case:
        return case_in(status, version=version, applicant=applicant, clerk=clerk, reviewer=reviewer)

    return make


def _post(client, name: str, case: Case, body: dict, key: str | None = KEY):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key is not None else {}
    return client.post(reverse(f"api:cases-{name}", args=[case.pk]), body, format="json", **headers)


@pytest.mark.parametrize(
    ("name", "start", "body", "after"),
    [
        ("review", CaseStatus.ACCEPTED, {"note": "开始审查"}, CaseStatus.IN_REVIEW),
        ("decide", CaseStatus.IN_REVIEW, {"decision": "approved"}, CaseStatus.DECIDED),
        ("complete", CaseStatus.DECIDED, {}, CaseStatus.COMPLETED),
        ("suspend", CaseStatus.IN_REVIEW, {"kind": "on_site", "reason": "现场核查"}, "suspended"),
        ("resume", CaseStatus.SUSPENDED, {"result": "核查完毕"}, CaseStatus.IN_REVIEW),
    ],
)
def test_repeated_answer_with_the_same_key_has_no_second_effect(
    name, start, body, after, dept_client, make_case, django_assert_max_num_queries
) -> None:
    # given a case waiting for the department's answer
    case = make_case(start)
    # when the department sends the answer, then repeats it with the same key
    first = _post(dept_client, name, case, body)
    events = case.events.count()
    # repeat: token + application + client department (auth), the key insert in a savepoint
    # (savepoint, insert refused, rollback) and the key row read; nothing else runs
    with django_assert_max_num_queries(8):
        second = _post(dept_client, name, case, body)
    # then both get the same result; the repeat is marked as replayed and changed nothing
    assert first.status_code == 200
    assert first.json()["status"] == after
    assert second.status_code == 200
    assert second.json() == first.json()
    assert second["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first
    assert case.events.count() == events
    assert Case.objects.get(pk=case.pk).status == after


def test_same_key_for_a_different_request_is_422_in_the_api_error_format(
    dept_client, make_case
) -> None:
    case, other_case = make_case(CaseStatus.IN_REVIEW), make_case(CaseStatus.IN_REVIEW)
    assert _post(dept_client, "decide", case, {"decision": "approved"}).status_code == 200
    # a different body, another case, another action: all refused, nothing changed
    other_body = _post(dept_client, "decide", case, {"decision": "denied", "reason": "不符合"})
    other_case_response = _post(dept_client, "decide", other_case, {"decision": "approved"})
    other_action = _post(dept_client, "complete", case, {})
    for response in (other_body, other_case_response, other_action):
        assert response.status_code == 422
        assert response.json() == {
            "code": "idempotency_key_reused",
            "detail": "该幂等键已用于另一项不同的请求",
        }
    assert Case.objects.get(pk=case.pk).decision == "approved"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.DECIDED
    assert Case.objects.get(pk=other_case.pk).status == CaseStatus.IN_REVIEW


def test_keys_belong_to_the_department(dept_client, make_case, other_department) -> None:
    # the same key string used by another department's system is that department's own key
    case = make_case(CaseStatus.IN_REVIEW)
    IdempotentRequest.objects.create(
        department=other_department,
        key=KEY,
        fingerprint="0" * 64,
        method="POST",
        path="/elsewhere/",
        state=IdempotentRequest.State.COMPLETED,
        response_status=200,
        response_body={"foreign": True},
    )
    response = _post(dept_client, "decide", case, {"decision": "approved"})
    assert response.status_code == 200
    assert response.json()["status"] == CaseStatus.DECIDED


def test_a_failed_request_releases_its_key(dept_client, make_case) -> None:
    # given a decide that is refused (the case is not in review yet)
    case = make_case(CaseStatus.ACCEPTED)
    refused = _post(dept_client, "decide", case, {"decision": "approved"})
    assert refused.status_code == 409
    assert not IdempotentRequest.objects.filter(key=KEY).exists()
    # when the cause is corrected and the same request is sent again with the same key
    assert _post(dept_client, "review", case, {}, key=None).status_code == 200
    again = _post(dept_client, "decide", case, {"decision": "approved"})
    # then it is executed
    assert again.status_code == 200
    assert again.json()["status"] == CaseStatus.DECIDED
    assert IdempotentRequest.objects.get(key=KEY).state == "completed"


def test_bad_key_is_400_with_a_field_error(dept_client, make_case) -> None:
    case = make_case(CaseStatus.IN_REVIEW)
    response = _post(dept_client, "decide", case, {"decision": "approved"}, key="short")
    assert response.status_code == 400
    assert response.json()["errors"]["Idempotency-Key"]
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW


def test_without_a_key_a_repeat_is_executed_again(dept_client, make_case) -> None:
    case = make_case(CaseStatus.IN_REVIEW)
    assert _post(dept_client, "decide", case, {"decision": "approved"}, key=None).status_code == 200
    repeat = _post(dept_client, "decide", case, {"decision": "approved"}, key=None)
    assert repeat.status_code == 409
    assert repeat.json()["code"] == "illegal_transition"
    assert not IdempotentRequest.objects.exists()


def test_request_still_running_is_409_and_a_dead_one_is_taken_over(
    dept_client, make_case, department, monkeypatch
) -> None:
    monkeypatch.setattr(idempotency, "WAIT_SECONDS", 0.2)
    case = make_case(CaseStatus.IN_REVIEW)
    body = {"decision": "approved"}
    path = reverse("api:cases-decide", args=[case.pk])
    # given the same request reserved by a request that is still running
    canonical = json.dumps(body, sort_keys=True, ensure_ascii=False)
    record = IdempotentRequest.objects.create(
        department=department,
        key=KEY,
        fingerprint=hashlib.sha256(f"POST {path}\n{canonical}".encode()).hexdigest(),
        method="POST",
        path=path,
    )
    # when the repeat arrives: it waits, then gets a clean 409 (never a 500)
    busy = _post(dept_client, "decide", case, body)
    assert busy.status_code == 409
    assert busy.json()["code"] == "idempotency_request_in_progress"
    assert Case.objects.get(pk=case.pk).status == CaseStatus.IN_REVIEW
    # when the holder died long ago, the repeat takes the reservation over and runs
    IdempotentRequest.objects.filter(pk=record.pk).update(
        updated_at=timezone.now() - timedelta(seconds=idempotency.STALE_SECONDS + 1)
    )
    taken = _post(dept_client, "decide", case, body)
    assert taken.status_code == 200
    assert taken.json()["status"] == CaseStatus.DECIDED
    assert IdempotentRequest.objects.get(pk=record.pk).state == "completed"


def _concurrently(count: int, send) -> list:
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = send(index)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


@pytest.mark.django_db(transaction=True)
def test_concurrent_identical_requests_act_once_and_all_get_the_same_result(
    dept_client, make_case
) -> None:
    # given a case in review
    case = make_case(CaseStatus.IN_REVIEW)
    body = {"decision": "approved", "result": {"licence_no": "SC-1"}, "complete": True}
    # when 6 copies of the same answer arrive at the same moment
    responses = _concurrently(6, lambda _i: _post(dept_client, "decide", case, body))
    # then none fails, all carry the first result, and the case was decided exactly once
    assert [r.status_code for r in responses] == [200] * 6
    assert all(r.json() == responses[0].json() for r in responses)
    assert sum(r.get("Idempotent-Replayed") == "true" for r in responses) == 5
    case.refresh_from_db()
    assert case.status == CaseStatus.COMPLETED
    assert case.events.filter(action="decide").count() == 1
    assert case.events.filter(action="complete").count() == 1


@pytest.mark.django_db(transaction=True)
def test_concurrent_different_requests_with_one_key_never_500(dept_client, make_case) -> None:
    cases = [make_case(CaseStatus.IN_REVIEW) for _ in range(4)]
    responses = _concurrently(
        4, lambda i: _post(dept_client, "decide", cases[i], {"decision": "approved"})
    )
    codes = sorted(r.status_code for r in responses)
    # exactly one of them used the key; the others are told the key is taken
    assert codes == [200, 422, 422, 422]
    decided = Case.objects.filter(pk__in=[c.pk for c in cases], status=CaseStatus.DECIDED)
    assert decided.count() == 1


# --- the handoffs answer endpoint follows the same rules ------------------------------------


@pytest.fixture
def answer_handoffs(department, other_department):
    calls: list[int] = []
    register_answer_handler("test.subject", lambda **kw: calls.append(kw["answer"].pk))
    handoffs = [
        HandoffFactory(
            source_department=other_department,
            target_department=department,
            state=HandoffState.DELIVERED,
        )
        for _ in range(2)
    ]
    yield handoffs, calls
    unregister_answer_handler("test.subject")


def _answer(client, handoff, body: dict, key: str | None = None):
    headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
    return client.post(f"/api/v1/handoffs/{handoff.pk}/answers/", body, format="json", **headers)


def test_handoff_answer_key_in_the_header_replays_and_refuses_a_different_answer(
    dept_client, answer_handoffs
) -> None:
    (handoff, other), calls = answer_handoffs
    body = {"kind": "decision", "data": {"decision": "approved"}}
    first = _answer(dept_client, handoff, body, key=KEY)
    repeat = _answer(dept_client, handoff, body, key=KEY)
    assert (first.status_code, repeat.status_code) == (201, 200)
    assert repeat.json() == first.json()
    assert repeat["Idempotent-Replayed"] == "true"
    # same key, different data / another handoff: 422, the first answer stays the only one
    changed = _answer(dept_client, handoff, {**body, "data": {"decision": "denied"}}, key=KEY)
    elsewhere = _answer(dept_client, other, body, key=KEY)
    for response in (changed, elsewhere):
        assert response.status_code == 422
        assert response.json()["code"] == "idempotency_key_reused"
    assert calls == [first.json()["answer_id"]]
    assert HandoffAnswer.objects.count() == 1


def test_handoff_answer_header_and_body_keys_must_agree(dept_client, answer_handoffs) -> None:
    (handoff, _other), calls = answer_handoffs
    response = _answer(
        dept_client,
        handoff,
        {"kind": "received", "idempotency_key": "body-key-0001"},
        key="header-key-0001",
    )
    assert response.status_code == 400
    assert response.json()["errors"]["idempotency_key"]
    assert calls == []


@pytest.mark.django_db(transaction=True)
def test_two_handoffs_answered_at_once_with_one_key_give_422_not_500(
    dept_client, answer_handoffs
) -> None:
    (first, second), calls = answer_handoffs
    targets = [first, second] * 3
    responses = _concurrently(
        6, lambda i: _answer(dept_client, targets[i], {"kind": "received"}, key=KEY)
    )
    codes = [r.status_code for r in responses]
    assert 500 not in codes
    # one answer was recorded; its repeats replay it, the other handoff's requests are refused
    answer = HandoffAnswer.objects.get()
    for target, response in zip(targets, responses, strict=True):
        if target.pk == answer.handoff_id:
            assert response.status_code in (200, 201)
            assert response.json()["answer_id"] == answer.pk
        else:
            assert response.status_code == 422
    assert codes.count(201) == 1
    assert calls == [answer.pk]
