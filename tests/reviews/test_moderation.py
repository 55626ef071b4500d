"""The held-comment screen: a 政务服务管理机构 member releases a comment held by the word
list or keeps it hidden; the grade always counted; every decision audited and pushed."""

from __future__ import annotations

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.handoffs.models import Handoff
from apps.identity.constants import StaffRole
from apps.reviews import services
from apps.reviews.constants import Grade, ModerationStatus
from apps.reviews.models import ModerationWord, Rating
from tests.core.factories import DepartmentFactory
from tests.identity.factories import StaffMembershipFactory, verified_user
from tests.reviews.factories import authority, window_service

URL = reverse("reviews_office:moderation")
# Queries of the screen: session, user, the user's memberships (scope check, twice: the
# supervised departments for the check and for the list), the 管理机构 rows, the supervised
# departments, the held ratings with their departments.
SCREEN_QUERIES = 12


@pytest.fixture
def held(department):
    ModerationWord.objects.create(word="骗子")
    service = window_service(department, served_user=verified_user("孙丽"))
    return services.rate_by_token(
        token=services.pad_token(service), grade=Grade.SATISFIED, comment="还行，不是骗子"
    )


@pytest.fixture
def national(settings):
    target = DepartmentFactory(name="国家政务服务平台好差评系统")
    settings.REVIEWS_NATIONAL_TARGET_USCC = target.uscc
    return target


def test_supervisor_sees_held_comments_without_the_raters_identity(
    client, held, django_assert_max_num_queries
) -> None:
    # given a supervisor of the province's 管理机构, and more held comments
    client.force_login(authority("360000"))
    # when
    with django_assert_max_num_queries(SCREEN_QUERIES):
        page = client.get(URL)
    # then the held text is listed, never who wrote it
    html = page.content.decode()
    assert page.status_code == 200
    assert "还行，不是骗子" in html
    assert "孙丽" not in html
    assert held.rater.username not in html


def test_query_count_does_not_grow_with_held_comments(
    client, held, department, django_assert_max_num_queries
) -> None:
    for _ in range(5):
        services.rate_by_token(
            token=services.pad_token(window_service(department)),
            grade=Grade.SATISFIED,
            comment="骗子",
        )
    client.force_login(authority("360000"))
    with django_assert_max_num_queries(SCREEN_QUERIES):
        page = client.get(URL)
    assert page.content.decode().count('name="rating"') == 6


@pytest.mark.parametrize(
    ("_case", "decision", "status", "public_text"),
    [
        ("release", "release", ModerationStatus.APPROVED, "还行，不是骗子"),
        ("keep_hidden", "keep", ModerationStatus.REJECTED, ""),
    ],
)
def test_supervisor_decides_a_held_comment(
    client, held, national, _case, decision, status, public_text
) -> None:
    # given
    supervisor = authority("360000")
    client.force_login(supervisor)
    # when
    response = client.post(URL, {"rating": held.pk, "decision": decision})
    # then the text is released or kept hidden, the grade untouched, the decision audited and
    # the national system told (the text only when released)
    assert response.status_code == 302
    held.refresh_from_db()
    assert (held.moderation, held.grade) == (status, Grade.SATISFIED)
    event = AuditEvent.objects.get(action="reviews.moderate")
    assert (event.actor, event.data) == (supervisor, {"approved": decision == "release"})
    pushed = Handoff.objects.get(idempotency_key=f"reviews-rating-{held.pk}-{status}")
    assert (pushed.payload["appStatus"], pushed.payload["writingEvaluation"]) == ("2", public_text)
    assert 'name="rating"' not in client.get(URL).content.decode()


def test_held_text_is_not_pushed_before_the_decision(national, held) -> None:
    first = Handoff.objects.get(idempotency_key=f"reviews-rating-{held.pk}")
    assert (first.payload["appStatus"], first.payload["writingEvaluation"]) == ("3", "")


def test_bad_decision_changes_nothing(client, held) -> None:
    client.force_login(authority("360000"))
    response = client.post(URL, {"rating": held.pk, "decision": "maybe"}, follow=True)
    assert "请选择放行或不予公开" in response.content.decode()
    assert Rating.objects.get().moderation == ModerationStatus.HELD
    assert not AuditEvent.objects.filter(action="reviews.moderate").exists()


@pytest.mark.parametrize("role", [StaffRole.DEPT_ADMIN, StaffRole.CLERK])
def test_the_department_itself_cannot_release_its_comments(client, held, department, role) -> None:
    # given staff of the rated department (not the 管理机构)
    client.force_login(StaffMembershipFactory(department=department, role=role).user)
    # when / then: the screen and the decision are not theirs
    assert client.get(URL).status_code == 404
    assert client.post(URL, {"rating": held.pk, "decision": "release"}).status_code == 404
    assert Rating.objects.get().moderation == ModerationStatus.HELD


def test_a_supervisor_of_another_province_cannot_see_or_release(client, held) -> None:
    client.force_login(authority("440000"))
    assert "还行" not in client.get(URL).content.decode()
    assert client.post(URL, {"rating": held.pk, "decision": "release"}).status_code == 404
    assert Rating.objects.get().moderation == ModerationStatus.HELD
