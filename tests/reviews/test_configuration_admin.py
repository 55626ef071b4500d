"""Administrators configure the 好差评 rules in the admin; each change is audited and takes
effect at once."""

import pytest

from django.contrib.auth import get_user_model
from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.reviews.config import policy_for
from apps.reviews.models import ModerationWord, ReviewPolicy

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    user = get_user_model().objects.create_superuser(username="reviews-admin", password="x" * 12)
    client.force_login(user)
    return client


def _policy_form(region_id: int, **overrides) -> dict:
    form = {
        "region": region_id,
        "default_after_days": 7,
        "default_grade": "basically_satisfied",
        "callback_days": 1,
        "rectify_days": 15,
        "appeal_days": 3,
        "feedback_days": 7,
        "rateable_nodes": "[]",
    }
    form.update(overrides)
    return form


def test_a_region_policy_set_in_the_admin_applies_and_is_audited(admin_client, department) -> None:
    region = department.region
    url = reverse("admin:reviews_reviewpolicy_add")
    response = admin_client.post(url, _policy_form(region.pk, rectify_days=10))
    assert response.status_code == 302, response.content.decode()[:2000]
    assert policy_for(region).rectify_days == 10

    policy = ReviewPolicy.objects.get(region=region)
    change = reverse("admin:reviews_reviewpolicy_change", args=[policy.pk])
    assert admin_client.post(change, _policy_form(region.pk, rectify_days=12)).status_code == 302
    assert policy_for(region).rectify_days == 12

    events = list(
        AuditEvent.objects.filter(action__startswith="reviews.reviewpolicy_").order_by("pk")
    )
    assert [e.action for e in events] == [
        "reviews.reviewpolicy_created",
        "reviews.reviewpolicy_changed",
    ]
    assert events[1].data["before"]["rectify_days"] == 10
    assert events[1].data["after"]["rectify_days"] == 12
    assert events[1].actor_id is not None


def test_unknown_rateable_nodes_are_refused_and_nothing_is_written(
    admin_client, department
) -> None:
    url = reverse("admin:reviews_reviewpolicy_add")
    response = admin_client.post(url, _policy_form(department.region_id, rateable_nodes='["x"]'))
    assert response.status_code == 200
    assert "可评价的办理环节无效" in response.content.decode()
    assert not ReviewPolicy.objects.exists()
    assert not AuditEvent.objects.filter(action__startswith="reviews.reviewpolicy_").exists()


def test_moderation_words_added_and_deleted_in_the_admin_are_audited(admin_client) -> None:
    add = reverse("admin:reviews_moderationword_add")
    assert admin_client.post(add, {"word": "测试词", "is_active": "on"}).status_code == 302
    word = ModerationWord.objects.get(word="测试词")
    delete = reverse("admin:reviews_moderationword_delete", args=[word.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 302
    assert not ModerationWord.objects.filter(word="测试词").exists()
    actions = list(
        AuditEvent.objects.filter(action__startswith="reviews.moderationword_")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == ["reviews.moderationword_created", "reviews.moderationword_deleted"]
