"""The message centre pages: list, one message (opening it marks it read), mark all read,
preferences, the header's unread badge, and someone else's message (404)."""

from __future__ import annotations

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.notifications.models import Notification, NotificationPreference
from apps.notifications.services import notify_users, send_notice
from tests.identity.factories import verified_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def citizen():
    return verified_user("张伟", phone="13900001111")


def _notice(user, key: str, title: str = "办件已受理：食品经营许可", **kwargs) -> Notification:
    notify_users(
        recipients=[user],
        key=key,
        kind=kwargs.get("kind", "cases.accepted"),
        title=title,
        body=kwargs.get("body", "您申请的食品经营许可已受理。"),
        url=kwargs.get("url", "/cases/"),
    )
    return Notification.objects.get(recipient=user, key=key)


def test_list_shows_own_messages_newest_first_with_unread_marked_in_bounded_queries(
    client, citizen, django_assert_max_num_queries
) -> None:
    # given
    other = verified_user("李娜", phone="13900002222")
    for index in range(25):
        _notice(citizen, f"k{index}", title=f"消息{index:02d}")
    _notice(other, "theirs", title="别人的消息")
    client.force_login(citizen)

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:list"))

    # then: one page of 20, newest first, nobody else's, a next-page link
    assert response.status_code == 200
    html = response.content.decode()
    assert html.count('data-testid="message"') == 20
    assert html.index("消息24") < html.index("消息05")
    assert "消息04" not in html
    assert "别人的消息" not in html
    assert "?page=2" in html
    assert 'data-testid="unread-count">25<' in html

    # and the second page holds the rest, at the same cost
    with django_assert_max_num_queries(8):
        second = client.get(reverse("notifications:list"), {"page": "2"})
    assert second.content.decode().count('data-testid="message"') == 5


def test_unread_filter_and_empty_state(client, citizen) -> None:
    # given
    read = _notice(citizen, "a", title="已读的消息")
    _notice(citizen, "b", title="未读的消息")
    Notification.objects.filter(pk=read.pk).update(read_at=read.created_at)
    client.force_login(citizen)

    # when
    unread = client.get(reverse("notifications:list"), {"filter": "unread"}).content.decode()
    client.post(reverse("notifications:read-all"))
    empty = client.get(reverse("notifications:list"), {"filter": "unread"}).content.decode()

    # then
    assert "未读的消息" in unread
    assert "已读的消息" not in unread
    assert "没有未读消息" in empty


def test_opening_a_message_marks_it_read_and_the_badge_drops(
    client, citizen, django_assert_max_num_queries, django_capture_on_commit_callbacks
) -> None:
    # given
    first = _notice(citizen, "a", url="/cases/12/")
    _notice(citizen, "b")
    client.force_login(citizen)
    assert (
        'data-testid="unread-count">2<' in client.get(reverse("identity:profile")).content.decode()
    )

    # when
    with django_assert_max_num_queries(8):
        response = client.get(reverse("notifications:detail", args=[first.pk]))

    # then
    assert response.status_code == 200
    html = response.content.decode()
    assert "您申请的食品经营许可已受理。" in html
    assert 'href="/cases/12/"' in html
    first.refresh_from_db()
    assert first.read_at is not None
    assert (
        'data-testid="unread-count">1<'
        in client.get(reverse("notifications:list")).content.decode()
    )


def test_a_new_notice_raises_the_cached_badge(
    client, citizen, django_capture_on_commit_callbacks
) -> None:
    # given: the badge is cached at 0
    client.force_login(citizen)
    assert (
        'data-testid="unread-count"'
        not in client.get(reverse("notifications:list")).content.decode()
    )

    # when
    with django_capture_on_commit_callbacks(execute=True):
        _notice(citizen, "new")

    # then
    assert (
        'data-testid="unread-count">1<'
        in client.get(reverse("notifications:list")).content.decode()
    )


def test_an_off_site_link_is_not_offered(client, citizen) -> None:
    notice = _notice(citizen, "x", url="https://evil.example/phish")
    client.force_login(citizen)

    html = client.get(reverse("notifications:detail", args=[notice.pk])).content.decode()

    assert "evil.example" not in html


def test_someone_elses_message_is_a_404_and_stays_unread(client, citizen) -> None:
    # given
    other = verified_user("李娜", phone="13900002222")
    theirs = _notice(other, "theirs")
    client.force_login(citizen)

    # when
    response = client.get(reverse("notifications:detail", args=[theirs.pk]))

    # then
    assert response.status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_mark_all_read_touches_only_own_messages(client, citizen) -> None:
    other = verified_user("李娜", phone="13900002222")
    _notice(citizen, "a")
    _notice(other, "b")
    client.force_login(citizen)

    response = client.post(reverse("notifications:read-all"))

    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=citizen, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=other, read_at__isnull=True).count() == 1


def test_signed_out_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get(reverse("notifications:list"))

    assert response.status_code == 302
    assert reverse("identity:login") in response["Location"]


def test_preferences_page_saves_choices_audited_and_keeps_required_notices(
    client, citizen, django_assert_max_num_queries, sms_outbox, django_capture_on_commit_callbacks
) -> None:
    # given
    client.force_login(citizen)
    with django_assert_max_num_queries(8):
        page = client.get(reverse("notifications:preferences"))
    assert page.status_code == 200
    assert 'name="cases.decided:sms"' in page.content.decode()

    # when: SMS off for decisions, in-site off for acceptances, in-site "off" for decisions
    # (a required notice: ignored)
    response = client.post(
        reverse("notifications:preferences"),
        {"cases.accepted:sms": "on"},
    )

    # then
    assert response.status_code == 302
    prefs = {p.kind: (p.site, p.sms) for p in NotificationPreference.objects.filter(user=citizen)}
    assert prefs["cases.accepted"] == (False, True)
    assert prefs["cases.decided"] == (True, False)
    assert AuditEvent.objects.filter(action="notifications.preferences_set").count() == 1

    # and the choices are honoured: a decision reaches the message centre, no SMS
    with django_capture_on_commit_callbacks(execute=True):
        send_notice(
            recipients=[citizen],
            key="d1",
            kind="cases.decided",
            title="审批决定",
            sms_text="【江西政务服务】已作出决定",
        )
        send_notice(
            recipients=[citizen],
            key="a1",
            kind="cases.accepted",
            title="已受理",
            sms_text="【江西政务服务】已受理",
        )
    assert list(Notification.objects.filter(recipient=citizen).values_list("key", flat=True)) == [
        "d1"
    ]
    assert [m.text for m in sms_outbox] == ["【江西政务服务】已受理"]
