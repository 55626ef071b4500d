"""The session's user, represented enterprises and staff posts read from the cache: no query
on a warm signed-in page, and never a stale answer after a change (the generation tokens)."""

from __future__ import annotations

import pytest

from django.contrib.auth import get_user_model
from django.core.cache import cache

from apps.identity import principal
from apps.identity.constants import StaffRole
from apps.identity.services import enterprises as enterprise_services
from tests.identity.factories import (
    EnterpriseFactory,
    StaffMembershipFactory,
    UserFactory,
    verified_user,
)

pytestmark = pytest.mark.django_db

User = get_user_model()


def fetch(pk):
    return User.objects.filter(pk=pk).first()


def new_request_user(user):
    """The user as the next request's session would load it."""
    return principal.load_user(user.pk, fetch)


def test_a_warm_signed_in_page_spends_no_query_on_the_user_or_whom_they_act_for(
    client, django_assert_num_queries
):
    user = verified_user("王芳")
    EnterpriseFactory(legal_representative=user)
    client.force_login(user)
    assert client.get("/cases/mine/").status_code == 200

    # then: only the page's own query (the cases), not the account or the enterprises
    with django_assert_num_queries(1):
        response = client.get("/cases/mine/")
    assert response.status_code == 200
    assert user.get_username() in response.content.decode()


def test_a_removed_licence_administrator_loses_the_enterprise_at_once():
    representative, admin = verified_user("张伟"), verified_user("李娜")
    enterprise = EnterpriseFactory(legal_representative=representative)
    role = enterprise_services.add_licence_administrator(
        actor=representative, enterprise=enterprise, user=admin
    )
    assert principal.represented_enterprise_ids(new_request_user(admin)) == [enterprise.pk]
    # cached now: the next request answers without a query
    assert principal.represented_enterprise_ids(new_request_user(admin)) == [enterprise.pk]

    enterprise_services.remove_licence_administrator(actor=representative, role_id=role.pk)

    assert principal.represented_enterprise_ids(new_request_user(admin)) == []


def test_roles_ended_in_bulk_when_the_representative_changes_are_dropped_too():
    representative, admin = verified_user("张伟"), verified_user("李娜")
    enterprise = EnterpriseFactory(legal_representative=representative)
    enterprise_services.add_licence_administrator(
        actor=representative, enterprise=enterprise, user=admin
    )
    assert principal.represented_enterprise_ids(new_request_user(admin)) == [enterprise.pk]

    # The roles end with a queryset update(), which sends no signal.
    enterprise_services._end_roles_under_representative(enterprise, actor=None)

    assert principal.represented_enterprise_ids(new_request_user(admin)) == []


def test_a_new_legal_representative_takes_the_enterprise_from_the_old_one():
    old, new = verified_user("张伟"), verified_user("赵敏")
    enterprise = EnterpriseFactory(legal_representative=old)
    assert principal.represented_enterprise_ids(new_request_user(old)) == [enterprise.pk]
    assert principal.represented_enterprise_ids(new_request_user(new)) == []

    enterprise.legal_representative = new
    enterprise.save()

    assert principal.represented_enterprise_ids(new_request_user(old)) == []
    assert principal.represented_enterprise_ids(new_request_user(new)) == [enterprise.pk]


def test_a_deactivated_post_and_a_moved_department_show_at_once(department):
    post = StaffMembershipFactory(department=department, role=StaffRole.CLERK)
    clerk = post.user
    assert principal.active_posts(new_request_user(clerk)) == [
        (department.pk, None, StaffRole.CLERK, department.region.code)
    ]
    assert principal.active_posts(new_request_user(clerk), [StaffRole.REVIEWER]) == []

    # A department's region is part of every post in it: a change there drops everyone's.
    region = department.region
    region.code = "360199"
    region.save()
    assert principal.active_posts(new_request_user(clerk))[0][3] == "360199"

    post.is_active = False
    post.save()
    assert principal.active_posts(new_request_user(clerk)) == []


def test_a_password_change_ends_the_other_sessions_of_a_cached_account(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/cases/mine/").status_code == 200
    assert client.get("/cases/mine/").status_code == 200  # the account now from the cache

    user.set_password("a-new-password-1")
    user.save()

    response = client.get("/cases/mine/")
    assert response.status_code == 302
    assert "/login" in response["Location"]


def test_a_deactivated_account_is_signed_out_at_once(client):
    user = UserFactory()
    client.force_login(user)
    assert client.get("/cases/mine/").status_code == 200

    user.is_active = False
    user.save(update_fields=["is_active"])

    assert client.get("/cases/mine/").status_code == 302


def test_a_reader_that_read_the_rows_before_a_change_never_caches_them():
    """The race the tokens close: a request reads the tokens, then the old rows; a change
    commits; the request stores what it read. Nobody may be served that value."""
    user = verified_user("张伟")
    enterprise = EnterpriseFactory(legal_representative=user)
    assert principal.represented_enterprise_ids(new_request_user(user)) == [enterprise.pk]
    cache.delete(principal._part_key(user.pk, principal.ENTERPRISES))

    loaded = principal._read(user.pk)  # the slow request starts
    principal.changed(user.pk)  # a change commits meanwhile
    principal._store(user.pk, loaded, principal.ENTERPRISES, [424242])  # stale, stored late

    assert principal.ENTERPRISES not in principal._read(user.pk).parts
    assert principal.represented_enterprise_ids(new_request_user(user)) == [enterprise.pk]


def test_without_the_cache_every_answer_comes_from_the_database(monkeypatch):
    user = verified_user("张伟")
    enterprise = EnterpriseFactory(legal_representative=user)

    def down(*args, **kwargs):
        raise ConnectionError("redis is down")

    monkeypatch.setattr(cache, "get_many", down)
    monkeypatch.setattr(cache, "set", down)
    monkeypatch.setattr(cache, "add", down)

    loaded = new_request_user(user)
    assert loaded == user
    assert principal.represented_enterprise_ids(loaded) == [enterprise.pk]
    enterprise.legal_representative = None
    enterprise.save()
    assert principal.represented_enterprise_ids(new_request_user(user)) == []
