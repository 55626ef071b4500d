"""Department catalogue API: own department only, scopes, error format, audit, query counts."""

from types import SimpleNamespace

import pytest

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from rest_framework.test import APIClient

from apps.audit.models import AuditEvent
from apps.catalog.constants import ItemStatus
from apps.catalog.models import DraftMaterial, ItemVersion, ServiceItem
from apps.identity.constants import StaffRole
from tests.catalog.factories import draft_item, element_fields, materials, published_item
from tests.identity.factories import (
    ApiClientFactory,
    ApplicationFactory,
    StaffMembershipFactory,
    UserFactory,
    issue_token,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("api:catalog-department-items")


def item_url(item: ServiceItem, action: str = "") -> str:
    if action:
        return reverse(f"api:catalog-department-item-{action}", args=[item.implementation_code])
    return reverse("api:catalog-department-item", args=[item.implementation_code])


def client_with(department, scopes: str) -> APIClient:
    token = issue_token(ApiClientFactory(department=department), scopes)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def payload(**overrides) -> dict:
    """A complete item as a department system sends it (JSON)."""
    data = element_fields()
    data.pop("name")
    return {"name": "食品经营许可", **data, "materials": materials(), **overrides}


def admin_session(department) -> APIClient:
    user = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = APIClient()
    client.force_login(user)
    return client


# --- create ---------------------------------------------------------------------------------


def test_client_creates_a_draft_with_nested_materials(dept_client, department) -> None:
    # when
    response = dept_client.post(LIST_URL, payload(themes=["start-up"]), format="json")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    item = ServiceItem.objects.get(pk=body["id"])
    assert item.department == department
    assert item.status == ItemStatus.DRAFT
    assert body["code"] == f"{department.uscc}2{item.basic_code}"
    assert body["status"] == "draft"
    assert [m["key"] for m in body["materials"]] == ["id-card", "application"]
    assert (
        body["materials"][0]["licence_types"]
        == item.draft_materials.get(key="id-card").licence_types
    )
    assert body["themes"] == ["start-up"]
    assert body["versions"] == []
    assert body["current_version"] is None
    event = AuditEvent.objects.get(action="catalog.item_created")
    assert event.object_id == str(item.pk)
    assert event.actor_id is None
    assert event.data["api_client"] == dept_client.api_client.pk


def test_create_for_another_department_is_refused_and_writes_nothing(
    dept_client, other_department
) -> None:
    events_before = AuditEvent.objects.count()
    response = dept_client.post(LIST_URL, payload(department=other_department.uscc), format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"
    assert ServiceItem.objects.count() == 0
    assert AuditEvent.objects.count() == events_before


@pytest.mark.parametrize(
    ("_case", "overrides", "field"),
    [
        ("unknown_item_type", {"item_type": "99"}, "item_type"),
        ("negative_limit", {"promised_limit_days": -1}, "promised_limit_days"),
        ("material_without_name", {"materials": [{"key": "x"}]}, "materials"),
        ("unknown_theme", {"themes": ["no-such-theme"]}, "themes"),
        ("unknown_department", {"department": "91110108551385082Q"}, "department"),
        ("duplicate_material_keys", {"materials": materials() + materials()[:1]}, "materials"),
    ],
)
def test_create_validation_errors_in_the_api_error_format(
    dept_client, _case, overrides, field
) -> None:
    # when
    response = dept_client.post(LIST_URL, payload(**overrides), format="json")
    # then
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert body["detail"] == "请求参数有误"
    assert field in body["errors"], body
    assert ServiceItem.objects.count() == 0
    assert DraftMaterial.objects.count() == 0


def test_duplicate_implementation_code_is_a_field_error(dept_client, department) -> None:
    existing = draft_item(department)
    response = dept_client.post(
        LIST_URL,
        payload(basic_code=existing.basic_code, exercise_level=existing.exercise_level),
        format="json",
    )
    assert response.status_code == 400
    assert "implementation_code" in response.json()["errors"]
    assert ServiceItem.objects.count() == 1


# --- read, update ---------------------------------------------------------------------------


def test_list_and_detail_show_only_own_items_with_drafts_and_versions(
    dept_client, department, other_department
) -> None:
    # given
    own, _ = published_item(department, name="本部门事项")
    draft_item(other_department, name="外部门事项")
    # when
    listed = dept_client.get(LIST_URL).json()["results"]
    detail = dept_client.get(item_url(own)).json()
    # then
    assert [row["code"] for row in listed] == [own.implementation_code]
    assert detail["name"] == "本部门事项"
    assert detail["versions"][0]["version"] == 1
    assert detail["current_version"] == 1
    assert [m["key"] for m in detail["materials"]] == ["id-card", "application"]


def test_update_replaces_the_draft_and_leaves_the_published_version(
    dept_client, department
) -> None:
    # given
    item, version = published_item(department, name="原名称")
    # when
    response = dept_client.patch(
        item_url(item),
        {"name": "新名称", "materials": materials(name="居民身份证（正反面）")[:1]},
        format="json",
    )
    # then
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["name"], body["has_unpublished_changes"]) == ("新名称", True)
    assert [m["name"] for m in body["materials"]] == ["居民身份证（正反面）"]
    assert ItemVersion.objects.get(pk=version.pk).name == "原名称"
    event = AuditEvent.objects.filter(action="catalog.item_updated").get()
    assert event.data["changed"] == ["name"]
    assert event.data["materials_replaced"] is True


def test_update_of_another_departments_item_is_not_found_and_writes_nothing(
    dept_client, other_department
) -> None:
    item, _ = published_item(other_department, name="外部门事项")
    events_before = AuditEvent.objects.count()
    response = dept_client.patch(item_url(item), {"name": "越权修改"}, format="json")
    assert response.status_code == 404
    assert ServiceItem.objects.get(pk=item.pk).name == "外部门事项"
    assert AuditEvent.objects.count() == events_before


def test_implementation_code_frozen_after_publish(dept_client, department) -> None:
    item, _ = published_item(department)
    response = dept_client.patch(item_url(item), {"implementation_code": "X" * 31}, format="json")
    assert response.status_code == 400
    assert response.json()["code"] == "implementation_code_frozen"


# --- publish and life cycle -----------------------------------------------------------------


def test_publish_creates_a_version_and_audits_the_change(dept_client, department) -> None:
    # given: version 1 is published, then the name changes in the draft
    item, _ = published_item(department, name="旧名称")
    dept_client.patch(item_url(item), {"name": "新名称"}, format="json")
    # when
    response = dept_client.post(item_url(item, "publish"), {"change_note": "更名"}, format="json")
    # then
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["current_version"] == 2
    assert [v["version"] for v in body["versions"]] == [2, 1]
    assert body["versions"][0]["change_note"] == "更名"
    assert body["versions"][0]["published_via"] == dept_client.api_client.application.name
    event = AuditEvent.objects.filter(action="catalog.item_published").latest("seq")
    assert event.data["version"] == 2
    assert event.data["changed"] == ["name"]
    assert event.data["api_client"] == dept_client.api_client.pk
    public = APIClient().get(f"/api/v1/catalog/items/{item.implementation_code}/").json()
    assert public["name"] == "新名称"


def test_publish_problems_come_back_as_field_errors(dept_client, department) -> None:
    # given: a draft with a promised limit over the legal one and a catch-all material
    created = dept_client.post(
        LIST_URL,
        payload(
            legal_limit_days=5,
            promised_limit_days=8,
            materials=materials(name="其他材料"),
        ),
        format="json",
    ).json()
    item = ServiceItem.objects.get(pk=created["id"])
    # when
    response = dept_client.post(item_url(item, "publish"), {}, format="json")
    # then
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["promised_limit_days"] == ["承诺办结时限不得超过法定办结时限"]
    assert errors["materials[0]"] == ["“其他材料”是兜底性材料，须列明具体材料名称"]
    assert ItemVersion.objects.count() == 0
    assert ServiceItem.objects.get(pk=item.pk).status == ItemStatus.DRAFT


def test_suspend_resume_retire_own_item(dept_client, department) -> None:
    item, _ = published_item(department)
    suspended = dept_client.post(item_url(item, "suspend"), {"reason": "系统升级"}, format="json")
    assert (suspended.status_code, suspended.json()["status"]) == (200, "suspended")
    assert suspended.json()["status_reason"] == "系统升级"
    resumed = dept_client.post(item_url(item, "resume"), format="json")
    assert (resumed.status_code, resumed.json()["status"]) == (200, "published")
    again = dept_client.post(item_url(item, "resume"), format="json")
    assert (again.status_code, again.json()["code"]) == (400, "invalid_transition")
    retired = dept_client.post(item_url(item, "retire"), {"reason": "事项取消"}, format="json")
    assert (retired.status_code, retired.json()["status"]) == (200, "retired")
    assert [e.action for e in AuditEvent.objects.order_by("seq")][-3:] == [
        "catalog.item_suspended",
        "catalog.item_resumed",
        "catalog.item_retired",
    ]


def test_suspend_needs_a_reason(dept_client, department) -> None:
    item, _ = published_item(department)
    response = dept_client.post(item_url(item, "suspend"), {}, format="json")
    assert response.status_code == 400
    assert "reason" in response.json()["errors"]
    assert ServiceItem.objects.get(pk=item.pk).status == ItemStatus.PUBLISHED


# --- who may call ---------------------------------------------------------------------------


def _anonymous(department) -> APIClient:
    return APIClient()


def _citizen(department) -> APIClient:
    client = APIClient()
    client.force_login(UserFactory())
    return client


def _clerk_of_department(department) -> APIClient:
    user = StaffMembershipFactory(department=department, role=StaffRole.CLERK).user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client = APIClient()
    client.force_login(user)
    return client


def _other_departments_admin(department) -> APIClient:
    return admin_session(StaffMembershipFactory().department)


def _other_departments_client(department) -> APIClient:
    return client_with(StaffMembershipFactory().department, "catalog:read catalog:write")


def _client_without_write_scope(department) -> APIClient:
    return client_with(department, "catalog:read cases:read cases:write")


def _oidc_token_of_the_departments_admin(department) -> APIClient:
    """A relying party's token for the department's own administrator: not a department
    client, so refused whoever the person is."""
    user = StaffMembershipFactory(department=department, role=StaffRole.DEPT_ADMIN).user
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    token = issue_token(
        SimpleNamespace(application=ApplicationFactory(user=user)), "catalog:read catalog:write"
    )
    token.user = user
    token.save(update_fields=["user"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.token}")
    return client


def _own_departments_admin(department) -> APIClient:
    return admin_session(department)


def _own_departments_client(department) -> APIClient:
    return client_with(department, "catalog:read catalog:write")


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (_anonymous, 401),
        (_citizen, 403),
        (_clerk_of_department, 403),
        # A token granted to some application on a person's behalf is not a department
        # client's: the API does not authenticate it at all (apps/identity/authentication.py).
        (_oidc_token_of_the_departments_admin, 401),
        (_client_without_write_scope, 403),
        (_other_departments_admin, 404),
        (_other_departments_client, 404),
        (_own_departments_admin, 201),
        (_own_departments_client, 201),
    ],
)
def test_publish_permission_matrix(department, caller, expected) -> None:
    # given
    item = draft_item(department)
    client = caller(department)
    events_before = AuditEvent.objects.count()
    # when
    response = client.post(item_url(item, "publish"), {}, format="json")
    # then
    assert response.status_code == expected, response.content
    published = ItemVersion.objects.filter(item=item).count()
    assert published == (1 if expected == 201 else 0)
    assert AuditEvent.objects.count() == events_before + published


@pytest.mark.parametrize(
    ("caller", "expected"),
    [
        (_anonymous, 401),
        (_citizen, 403),
        (_client_without_write_scope, 403),
        (_other_departments_admin, 403),
        (_other_departments_client, 403),
        (_own_departments_admin, 201),
        (_own_departments_client, 201),
    ],
)
def test_create_permission_matrix(department, caller, expected) -> None:
    client = caller(department)
    response = client.post(LIST_URL, payload(department=department.uscc), format="json")
    assert response.status_code == expected, response.content
    assert ServiceItem.objects.count() == (1 if expected == 201 else 0)


def test_department_admin_refused_on_another_departments_item_in_the_api(
    department, other_department
) -> None:
    # given
    item, _ = published_item(other_department, name="外部门事项")
    client = admin_session(department)
    # when
    responses = [
        client.get(item_url(item)),
        client.patch(item_url(item), {"name": "越权修改"}, format="json"),
        client.post(item_url(item, "suspend"), {"reason": "越权"}, format="json"),
        client.post(item_url(item, "retire"), {"reason": "越权"}, format="json"),
    ]
    # then
    assert [r.status_code for r in responses] == [404, 404, 404, 404]
    stored = ServiceItem.objects.get(pk=item.pk)
    assert (stored.name, stored.status) == ("外部门事项", ItemStatus.PUBLISHED)


def test_read_scope_is_enough_to_list(department) -> None:
    draft_item(department)
    assert client_with(department, "catalog:read").get(LIST_URL).status_code == 200
    assert client_with(department, "cases:read").get(LIST_URL).status_code == 403


# --- query counts ---------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_page_size(
    dept_client, department, django_assert_max_num_queries
) -> None:
    # given: 12 items with materials, variants, themes and versions
    for _ in range(12):
        published_item(department)
    counts = {}
    for page_size in (5, 12):
        # access token (+ application) and api client (OAuth2 authentication); the page of
        # items (+ department, current version); draft materials, draft variants, themes,
        # versions (4 prefetches)
        with (
            django_assert_max_num_queries(7),
            CaptureQueriesContext(connection) as queries,
        ):
            response = dept_client.get(LIST_URL, {"page_size": page_size})
        assert len(response.json()["results"]) == page_size
        counts[page_size] = len(queries)
    assert counts[5] == counts[12]


def test_detail_query_count(dept_client, department, django_assert_max_num_queries) -> None:
    item, _ = published_item(department)
    # access token (+ application), api client; the item (+ department, current version);
    # draft materials, draft variants, themes, versions
    with django_assert_max_num_queries(7):
        assert dept_client.get(item_url(item)).status_code == 200


def test_suspend_query_count(dept_client, department, django_assert_max_num_queries) -> None:
    item, _ = published_item(department)
    # access token (+ application), api client; lookup of the item; savepoint, lock, update;
    # audit: savepoint, chain head, insert, head update, 2 releases; the item again with its
    # department and current version + 4 prefetches for the response
    with django_assert_max_num_queries(17):
        response = dept_client.post(item_url(item, "suspend"), {"reason": "检修"}, format="json")
    assert response.status_code == 200


def test_publish_refuses_malformed_codes_in_the_api(dept_client, department) -> None:
    # given: a draft whose basic and local codes and variant code are malformed (a draft may
    # hold them; publishing may not)
    created = dept_client.post(
        LIST_URL,
        payload(
            basic_code="ab-1234",
            local_basic_code="本地 编码",
            variants=[{"code": "36010200000001", "name": "首次申领"}],
        ),
        format="json",
    )
    assert created.status_code == 201, created.json()
    item = ServiceItem.objects.get(pk=created.json()["id"])
    # when
    response = dept_client.post(item_url(item, "publish"), {}, format="json")
    # then
    assert response.status_code == 400
    errors = response.json()["errors"]
    assert errors["basic_code"] == ["基本编码只能由数字和大写字母组成"]
    assert errors["local_basic_code"] == [
        "地方编码只能包含字母、数字、点、下划线和连字符，且不超过64位"
    ]
    assert errors["variants[0]"] == ["业务办理项编码应以所属事项的实施编码开头"]
    assert ItemVersion.objects.count() == 0


def test_variants_are_created_published_and_shown(dept_client, department, client) -> None:
    # given: a draft with two handling variants (业务办理项)
    data = payload()
    code = f"{department.uscc}{data['exercise_level']}{data['basic_code']}"
    created = dept_client.post(
        LIST_URL,
        {
            **data,
            "variants": [
                {"code": f"{code}01", "name": "首次申领", "description": "年满十六周岁首次申领"},
                {"code": f"{code}02", "name": "遗失补领", "description": "证件遗失的"},
            ],
        },
        format="json",
    )
    assert created.status_code == 201, created.json()
    assert [v["name"] for v in created.json()["variants"]] == ["首次申领", "遗失补领"]
    item = ServiceItem.objects.get(pk=created.json()["id"])
    # when
    published = dept_client.post(item_url(item, "publish"), {}, format="json")
    # then: the public detail API and the guide show the published variants
    assert published.status_code == 201, published.json()
    detail = APIClient().get(f"/api/v1/catalog/items/{item.implementation_code}/").json()
    assert detail["variants"] == [
        {"code": f"{code}01", "name": "首次申领", "description": "年满十六周岁首次申领"},
        {"code": f"{code}02", "name": "遗失补领", "description": "证件遗失的"},
    ]
    guide = client.get(reverse("catalog:item-detail", args=[item.implementation_code]))
    html = guide.content.decode()
    for text in ("首次申领", "年满十六周岁首次申领", "遗失补领", f"{code}02"):
        assert text in html, text
