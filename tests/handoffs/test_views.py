"""Office screens: monitor (counts, filters), detail, dead-letter actions, 签收, endpoint setup.

Every page pins its queries; every POST is checked for who may do it, and a refused POST
changes nothing.
"""

from __future__ import annotations

import pytest

from django.test import Client
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.handoffs.constants import AttemptOutcome, DeliveryMode, HandoffState
from apps.handoffs.models import DepartmentEndpoint, Handoff, SigningKey
from apps.identity.constants import StaffRole
from tests.core.factories import DepartmentFactory
from tests.handoffs.factories import (
    DepartmentEndpointFactory,
    HandoffFactory,
    SigningKeyFactory,
)
from tests.identity.factories import StaffMembershipFactory, UserFactory

pytestmark = pytest.mark.django_db


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def staff(department, role=StaffRole.CLERK):
    return StaffMembershipFactory(department=department, role=role).user


@pytest.fixture
def dead(department, other_department):
    """A dead letter sent by ``department`` to ``other_department``, with its failed attempt."""
    handoff = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.DEAD,
        attempts=1,
        last_error="HTTP 422: unknown item code",
    )
    handoff.attempt_log.create(
        number=1,
        mode=DeliveryMode.PUSH,
        outcome=AttemptOutcome.FAILED,
        status_code=422,
        error="HTTP 422: unknown item code",
        duration_ms=35,
    )
    return handoff


# --- monitor ------------------------------------------------------------------------------


def test_list_shows_own_departments_handoffs_counts_and_pins_queries(
    department, other_department, dead, django_assert_max_num_queries
) -> None:
    # given handoffs of the clerk's department (one dead, two pending) and of strangers
    HandoffFactory.create_batch(2, source_department=department, target_department=other_department)
    stranger = HandoffFactory(subject_reference="STRANGER-1")
    client = logged_in(staff(department))
    # when the clerk opens the monitor
    # queries: session; user; staff timeout check reads no table; memberships (once per
    # request); handoff page; counts by department and state; filter departments; health
    # aggregate
    with django_assert_max_num_queries(8):
        response = client.get(reverse("handoffs:list"))
    # then own handoffs and counts are shown, strangers' are not
    assert response.status_code == 200
    page = response.content.decode()
    assert f'href="{reverse("handoffs:detail", args=[dead.pk])}"' in page
    assert stranger.subject_reference not in page
    counts = response.context["counts"]
    assert [(row["department"], row["pending"], row["dead"], row["total"]) for row in counts] == [
        (other_department.name, 2, 1, 3)
    ]


def test_list_query_count_does_not_grow_with_rows(
    department, other_department, django_assert_max_num_queries
) -> None:
    # given 60 handoffs (more than a page) to five departments
    for _ in range(5):
        HandoffFactory.create_batch(12, source_department=department)
    client = logged_in(UserFactory(admin=True))
    # when a platform administrator opens the monitor
    # queries: session; user; handoff page; counts; filter departments; health; memberships
    # (does the administrator also administer a department: link to its endpoint page)
    with django_assert_max_num_queries(7):
        response = client.get(reverse("handoffs:list"))
    # then one page is shown with a next link
    assert response.status_code == 200
    assert len(response.context["handoffs"]) == 50
    assert response.context["has_next"] is True


@pytest.mark.parametrize(
    ("_case", "query", "expected"),
    [
        ("dead letters", {"state": "dead"}, {"dead"}),
        ("received by other", {"department": "OTHER", "direction": "in"}, {"dead", "pending"}),
        ("sent by other", {"department": "OTHER", "direction": "out"}, set()),
        ("by case number", {"q": "CASE-7"}, {"pending"}),
        ("invalid values ignored", {"state": "nonsense", "department": "x"}, {"dead", "pending"}),
    ],
)
def test_list_filters(_case, query, expected, department, other_department, dead) -> None:
    # given a dead letter and a pending handoff with a case number
    HandoffFactory(
        source_department=department, target_department=other_department, subject_reference="CASE-7"
    )
    params = {k: (str(other_department.pk) if v == "OTHER" else v) for k, v in query.items()}
    # when the monitor is filtered
    response = logged_in(staff(department)).get(reverse("handoffs:list"), params)
    # then exactly the matching handoffs are listed
    assert response.status_code == 200
    assert {h.state for h in response.context["handoffs"]} == expected


def test_citizen_and_anonymous_are_kept_out(department) -> None:
    # given a logged-in user without any staff membership, and an anonymous visitor
    # then the first is refused and the second is sent to log in
    assert logged_in(UserFactory()).get(reverse("handoffs:list")).status_code == 403
    assert Client().get(reverse("handoffs:list")).status_code == 302


# --- detail -------------------------------------------------------------------------------


def test_detail_shows_attempts_errors_and_actions_for_department_admin(
    department, dead, django_assert_max_num_queries
) -> None:
    # given the sending department's administrator
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    # when the dead letter is opened
    # queries: session; user; handoff (+ departments); memberships; attempts; answers;
    # re-route targets
    with django_assert_max_num_queries(7):
        response = client.get(reverse("handoffs:detail", args=[dead.pk]))
    # then its failed attempt, its error and the retry / re-route forms are shown
    page = response.content.decode()
    assert response.status_code == 200
    assert "HTTP 422: unknown item code" in page
    assert reverse("handoffs:retry", args=[dead.pk]) in page
    assert reverse("handoffs:reroute", args=[dead.pk]) in page


def test_detail_for_a_clerk_has_no_dead_letter_actions(department, dead) -> None:
    response = logged_in(staff(department)).get(reverse("handoffs:detail", args=[dead.pk]))
    assert response.status_code == 200
    assert reverse("handoffs:retry", args=[dead.pk]) not in response.content.decode()


def test_detail_of_another_departments_handoff_is_404(dead) -> None:
    outsider = staff(DepartmentFactory(), StaffRole.DEPT_ADMIN)
    assert logged_in(outsider).get(reverse("handoffs:detail", args=[dead.pk])).status_code == 404


# --- dead-letter actions ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("_case", "who", "status", "retried"),
    [
        ("anonymous", "anonymous", 302, False),
        ("clerk of the sender", "source_clerk", 403, False),
        ("admin of an unrelated department", "stranger_admin", 404, False),
        ("admin of the sender", "source_admin", 302, True),
        ("admin of the receiver", "target_admin", 302, True),
        ("platform administrator", "platform_admin", 302, True),
    ],
)
def test_retry_permission_matrix(
    _case, who, status, retried, department, other_department, dead
) -> None:
    # given one actor of the matrix
    users = {
        "source_clerk": lambda: staff(department),
        "stranger_admin": lambda: staff(DepartmentFactory(), StaffRole.DEPT_ADMIN),
        "source_admin": lambda: staff(department, StaffRole.DEPT_ADMIN),
        "target_admin": lambda: staff(other_department, StaffRole.DEPT_ADMIN),
        "platform_admin": lambda: UserFactory(admin=True),
    }
    client = Client() if who == "anonymous" else logged_in(users[who]())
    # when they press 重试
    response = client.post(reverse("handoffs:retry", args=[dead.pk]))
    # then only administrators of either end (or the platform) retry it, audited
    assert response.status_code == status
    dead.refresh_from_db()
    assert (dead.state == HandoffState.PENDING) is retried
    assert AuditEvent.objects.filter(action="handoffs.retried").count() == int(retried)


def test_retry_a_dead_letter_gives_fresh_budget_and_message(department, dead) -> None:
    # given the sender's administrator
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    # when they retry
    response = client.post(reverse("handoffs:retry", args=[dead.pk]), follow=True)
    # then the handoff is pending again with a fresh attempt budget, and they are told
    dead.refresh_from_db()
    assert (dead.state, dead.attempts) == (HandoffState.PENDING, 0)
    assert "已重新投递" in response.content.decode()


def test_retry_of_a_live_handoff_is_refused_with_a_chinese_message(department, other_department):
    live = HandoffFactory(source_department=department, target_department=other_department)
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    response = client.post(reverse("handoffs:retry", args=[live.pk]), follow=True)
    assert "只有死信可以重试" in response.content.decode()
    assert Handoff.objects.get(pk=live.pk).state == HandoffState.PENDING


def test_reroute_to_another_department(department, other_department, dead) -> None:
    # given the receiver's administrator, who knows the right office
    right = DepartmentFactory(name="南昌市行政审批局")
    client = logged_in(staff(other_department, StaffRole.DEPT_ADMIN))
    # when they re-route the dead letter there
    response = client.post(
        reverse("handoffs:reroute", args=[dead.pk]), {"target_department": right.pk}
    )
    # then it is pending for the new target, audited
    assert response.status_code == 302
    dead.refresh_from_db()
    assert (dead.state, dead.target_department_id) == (HandoffState.PENDING, right.pk)
    event = AuditEvent.objects.get(action="handoffs.rerouted")
    assert event.data["to_department"] == right.pk


@pytest.mark.parametrize(("_case", "value"), [("missing", ""), ("unknown", "999999")])
def test_reroute_to_an_invalid_department_changes_nothing(_case, value, department, dead) -> None:
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    response = client.post(
        reverse("handoffs:reroute", args=[dead.pk]), {"target_department": value}, follow=True
    )
    assert "请选择有效的改派部门" in response.content.decode()
    assert Handoff.objects.get(pk=dead.pk).state == HandoffState.DEAD
    assert not AuditEvent.objects.filter(action="handoffs.rerouted").exists()


# --- internal departments: 签收 ----------------------------------------------------------


def test_internal_department_signs_for_a_delivered_handoff(department, other_department) -> None:
    # given a handoff delivered to an internal department's office queue
    handoff = HandoffFactory(
        source_department=department,
        target_department=other_department,
        state=HandoffState.DELIVERED,
        mode=DeliveryMode.INTERNAL,
    )
    sender = logged_in(staff(department))
    receiver = logged_in(staff(other_department))
    # when the sender tries to sign, then the receiver signs
    refused = sender.post(reverse("handoffs:acknowledge", args=[handoff.pk]))
    accepted = receiver.post(reverse("handoffs:acknowledge", args=[handoff.pk]))
    # then only the receiving department's staff may, and it is acknowledged and audited
    assert (refused.status_code, accepted.status_code) == (403, 302)
    handoff.refresh_from_db()
    assert handoff.state == HandoffState.ACKNOWLEDGED
    assert AuditEvent.objects.get(action="handoffs.acknowledged").object_id == str(handoff.pk)


# --- endpoint configuration ---------------------------------------------------------------


def test_department_admin_configures_push_endpoint(
    department, django_assert_max_num_queries
) -> None:
    # given a department administrator
    admin = staff(department, StaffRole.DEPT_ADMIN)
    client = logged_in(admin)
    url = reverse("handoffs:endpoint-department", args=[department.pk])
    # when they open the page
    # queries: session; user; memberships; department; endpoint; administered departments
    with django_assert_max_num_queries(6):
        assert client.get(url).status_code == 200
    # and save push mode
    response = client.post(
        url,
        {
            "mode": "push",
            "push_url": "https://dept.example.gov.cn/hook",
            "timeout_seconds": "8",
            "max_attempts": "12",
            "replay_window_seconds": "300",
            "is_active": "on",
        },
    )
    # then the endpoint is saved and audited
    assert response.status_code == 302
    endpoint = DepartmentEndpoint.objects.get(department=department)
    assert (endpoint.mode, endpoint.push_url, endpoint.max_attempts) == (
        "push",
        "https://dept.example.gov.cn/hook",
        12,
    )
    assert AuditEvent.objects.get(action="handoffs.endpoint_configured").actor_id == admin.pk


@pytest.mark.parametrize(
    ("_case", "data", "field"),
    [
        ("push without URL", {"mode": "push", "push_url": ""}, "push_url"),
        ("timeout too long", {"mode": "pull", "timeout_seconds": "90"}, "timeout_seconds"),
        ("unknown mode", {"mode": "carrier-pigeon"}, "mode"),
    ],
)
def test_bad_endpoint_configuration_is_refused_with_chinese_errors(
    _case, data, field, department
) -> None:
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    values = {"timeout_seconds": "10", "max_attempts": "10", "replay_window_seconds": "300"}
    response = client.post(
        reverse("handoffs:endpoint-department", args=[department.pk]), {**values, **data}
    )
    assert response.status_code == 400
    assert response.context["form"].errors[field]
    assert not DepartmentEndpoint.objects.exists()


@pytest.mark.parametrize(("_case", "role"), [("clerk", StaffRole.CLERK), ("other dept", None)])
def test_only_the_departments_admin_may_configure(_case, role, department) -> None:
    user = staff(department, role) if role else staff(DepartmentFactory(), StaffRole.DEPT_ADMIN)
    client = logged_in(user)
    url = reverse("handoffs:endpoint-department", args=[department.pk])
    assert client.get(url).status_code == 403
    assert client.post(url, {"mode": "pull"}).status_code == 403
    assert not DepartmentEndpoint.objects.exists()


def test_key_rotation_on_the_office_screen(department) -> None:
    # given a push endpoint with one key
    endpoint = DepartmentEndpointFactory(department=department, push=True)
    old = SigningKeyFactory(endpoint=endpoint, key_id="k1")
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    # when a new key is added
    response = client.post(reverse("handoffs:key-add", args=[department.pk]), {"key_id": "k2"})
    # then its secret is shown once, never cached
    new = SigningKey.objects.get(key_id="k2")
    assert response.status_code == 200
    assert new.secret in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert (
        new.secret
        not in client.get(
            reverse("handoffs:endpoint-department", args=[department.pk])
        ).content.decode()
    )
    # and when the old key is retired, the new one remains; the last one cannot be retired
    client.post(reverse("handoffs:key-deactivate", args=[department.pk, old.pk]))
    refused = client.post(
        reverse("handoffs:key-deactivate", args=[department.pk, new.pk]), follow=True
    )
    assert "推送方式至少需要一把有效密钥" in refused.content.decode()
    assert dict(SigningKey.objects.values_list("key_id", "is_active")) == {"k1": False, "k2": True}
    assert (
        AuditEvent.objects.filter(
            action__in=["handoffs.key_added", "handoffs.key_deactivated"]
        ).count()
        == 2
    )


def test_key_of_another_department_is_404(department) -> None:
    foreign = SigningKeyFactory()
    DepartmentEndpointFactory(department=department, push=True)
    client = logged_in(staff(department, StaffRole.DEPT_ADMIN))
    response = client.post(reverse("handoffs:key-deactivate", args=[department.pk, foreign.pk]))
    assert response.status_code == 404
    assert SigningKey.objects.get(pk=foreign.pk).is_active is True
