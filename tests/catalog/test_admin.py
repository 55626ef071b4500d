"""Department administrators maintain only their own department's items in the admin."""

import json

import pytest

from django.urls import reverse

from apps.audit.models import AuditEvent
from apps.catalog.models import ServiceItem
from tests.catalog.factories import draft_item, published_item

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client_for(client, dept_admin):
    dept_admin.is_staff = True
    dept_admin.save(update_fields=["is_staff"])
    client.force_login(dept_admin)
    return client


def test_changelist_shows_only_own_department(admin_client_for, department, other_department):
    own = draft_item(department, name="本部门事项")
    draft_item(other_department, name="外部门事项")
    response = admin_client_for.get(reverse("admin:catalog_serviceitem_changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [own]


def test_other_departments_item_can_not_be_opened_or_changed(
    admin_client_for, other_department
) -> None:
    # given
    item, _ = published_item(other_department)
    url = reverse("admin:catalog_serviceitem_change", args=[item.pk])
    events_before = AuditEvent.objects.count()
    # when
    get_response = admin_client_for.get(url)
    post_response = admin_client_for.post(url, {"name": "越权修改"})
    # then: the admin treats it as nonexistent and writes nothing
    assert get_response.status_code == 302
    assert post_response.status_code == 302
    assert ServiceItem.objects.get(pk=item.pk).name == item.name
    assert AuditEvent.objects.count() == events_before


def test_publish_action_on_own_item(admin_client_for, department) -> None:
    item = draft_item(department)
    response = admin_client_for.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "publish_selected", "_selected_action": [item.pk]},
        follow=True,
    )
    assert response.status_code == 200
    item.refresh_from_db()
    assert item.current_version.version == 1


def test_own_item_change_page_renders(admin_client_for, department) -> None:
    item = draft_item(department)
    response = admin_client_for.get(reverse("admin:catalog_serviceitem_change", args=[item.pk]))
    assert response.status_code == 200
    assert "申请材料（草稿）" in response.content.decode()


def test_saving_own_item_with_materials_goes_through_the_service(
    admin_client_for, department
) -> None:
    # given: the change form as the admin renders it
    item = draft_item(department)
    url = reverse("admin:catalog_serviceitem_change", args=[item.pk])
    form = admin_client_for.get(url).context["adminform"].form
    data = {}
    for name, field in form.fields.items():
        value = form.initial.get(name, field.initial)
        if name == "themes":
            data[name] = []
        elif hasattr(field, "prepare_value") and value is not None:
            prepared = field.prepare_value(value)
            data[name] = "" if prepared is None else prepared
    data = {k: v for k, v in data.items() if v is not None and v is not False}
    data["name"] = "后台修改的名称"
    for prefix, rows in (("draft_materials", item.draft_materials.all()), ("draft_variants", [])):
        data[f"{prefix}-TOTAL_FORMS"] = len(rows)
        data[f"{prefix}-INITIAL_FORMS"] = len(rows)
        for i, row in enumerate(rows):
            data[f"{prefix}-{i}-id"] = row.pk
            data[f"{prefix}-{i}-item"] = item.pk
            for field in ("key", "name", "requirement", "form", "copies", "source", "order"):
                data[f"{prefix}-{i}-{field}"] = getattr(row, field)
            data[f"{prefix}-{i}-licence_types"] = json.dumps(row.licence_types)
            data[f"{prefix}-{i}-shared_sources"] = "[]"
    data["draft_materials-1-DELETE"] = "on"
    # when
    response = admin_client_for.post(url, data)
    # then
    assert response.status_code == 302, response.context["adminform"].form.errors
    item.refresh_from_db()
    assert item.name == "后台修改的名称"
    assert [m.key for m in item.draft_materials.all()] == ["id-card"]
    assert AuditEvent.objects.filter(action="catalog.item_updated", object_id=str(item.pk)).exists()


def test_retire_action_on_own_item_only(admin_client_for, department, other_department) -> None:
    # given: an own published item and another department's
    own, _ = published_item(department)
    foreign, _ = published_item(other_department)
    # when
    response = admin_client_for.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "retire_selected", "_selected_action": [own.pk, foreign.pk]},
        follow=True,
    )
    # then: the own item is retired with a reason and audited; the other is untouched
    assert response.status_code == 200
    own.refresh_from_db()
    assert (own.status, own.status_reason) == ("retired", "部门管理员在后台取消事项")
    assert ServiceItem.objects.get(pk=foreign.pk).status == "published"
    event = AuditEvent.objects.filter(action="catalog.item_retired").get()
    assert event.data["reason"] == "部门管理员在后台取消事项"
    # retiring again is refused with a message, nothing written
    again = admin_client_for.post(
        reverse("admin:catalog_serviceitem_changelist"),
        {"action": "retire_selected", "_selected_action": [own.pk]},
        follow=True,
    )
    assert "不能执行此操作" in again.content.decode()
    assert AuditEvent.objects.filter(action="catalog.item_retired").count() == 1
