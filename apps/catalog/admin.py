"""Back-office maintenance of service items in the Django admin.

Department administrators (is_staff + an active ``dept_admin`` membership) see and edit only
their own departments' items; superusers see all. Every save goes through the catalogue
services, so the same department check, validation and audit trail apply as on the API.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from apps.catalog import services
from apps.catalog.models import (
    ELEMENT_FIELDS,
    MATERIAL_FIELDS,
    VARIANT_FIELDS,
    BasicItem,
    DraftMaterial,
    DraftVariant,
    ItemVersion,
    ServiceItem,
    Theme,
)
from apps.catalog.permissions import can_manage_item, managed_department_ids
from apps.catalog.selectors import list_manageable_items
from apps.core.exceptions import DomainError
from apps.core.models import Department


def _is_catalog_staff(request: HttpRequest) -> bool:
    user = request.user
    if not (user.is_active and user.is_staff):
        return False
    return user.is_superuser or bool(managed_department_ids(user))


class CatalogStaffMixin:
    """Module and view access for department administrators, not only Django model perms."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return _is_catalog_staff(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return _is_catalog_staff(request)


class DraftInlineMixin:
    """Inline rows of the draft follow the item's own department check."""

    def _allowed(self, request: HttpRequest, obj: Any) -> bool:
        return _is_catalog_staff(request) and (obj is None or can_manage_item(request.user, obj))

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, obj)


class DraftMaterialInline(DraftInlineMixin, admin.StackedInline):
    model = DraftMaterial
    extra = 0
    fields = list(MATERIAL_FIELDS)


class DraftVariantInline(DraftInlineMixin, admin.TabularInline):
    model = DraftVariant
    extra = 0
    fields = list(VARIANT_FIELDS)


@admin.register(ServiceItem)
class ServiceItemAdmin(CatalogStaffMixin, admin.ModelAdmin):
    list_display = [
        "name",
        "implementation_code",
        "department",
        "item_type",
        "status",
        "current_version",
        "has_unpublished_changes",
    ]
    list_filter = ["status", "item_type", "department__level"]
    search_fields = ["name", "implementation_code", "basic_code"]
    list_select_related = ["department", "current_version"]
    readonly_fields = ["status", "status_reason", "current_version", "has_unpublished_changes"]
    filter_horizontal = ["themes"]
    inlines = [DraftMaterialInline, DraftVariantInline]
    actions = ["publish_selected", "suspend_selected", "resume_selected", "retire_selected"]
    show_full_result_count = False

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return ["department", *ELEMENT_FIELDS, "themes", *self.readonly_fields]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ServiceItem]:
        return list_manageable_items(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return _is_catalog_staff(request)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if not _is_catalog_staff(request):
            return False
        return obj is None or can_manage_item(request.user, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Published items are retired, never deleted: cases and licences refer to them.
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        fields = list(self.readonly_fields)
        if obj is not None:
            fields.append("department")
            if obj.current_version_id is not None:
                fields.append("implementation_code")
        return fields

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "department":
            allowed = managed_department_ids(request.user)
            queryset = Department.objects.all()
            kwargs["queryset"] = queryset if allowed is None else queryset.filter(pk__in=allowed)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if change:
            return  # saved with its materials in save_related, in one service call
        fields = {f: form.cleaned_data[f] for f in ELEMENT_FIELDS if f in form.cleaned_data}
        item = services.create_item(
            actor=request.user, department=form.cleaned_data["department"], fields=fields
        )
        obj.pk = item.pk
        obj._state.adding = False

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        children: dict[str, list[dict[str, Any]]] = {}
        for formset in formsets:
            names = MATERIAL_FIELDS if formset.model is DraftMaterial else VARIANT_FIELDS
            key = "materials" if formset.model is DraftMaterial else "variants"
            children[key] = [
                {name: f.cleaned_data[name] for name in names if name in f.cleaned_data}
                for f in formset.forms
                if f.cleaned_data and not f.cleaned_data.get("DELETE")
            ]
            # The service replaced the rows; the admin's change message reads these lists.
            formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []
        fields = {}
        if change:
            fields = {f: form.cleaned_data[f] for f in ELEMENT_FIELDS if f in form.cleaned_data}
        services.update_item(
            actor=request.user,
            item_id=form.instance.pk,
            fields=fields,
            materials=children.get("materials"),
            variants=children.get("variants"),
            theme_codes=[theme.code for theme in form.cleaned_data.get("themes", [])],
        )

    def _run(self, request: HttpRequest, queryset: QuerySet[ServiceItem], fn: Any) -> None:
        for item in queryset:
            try:
                fn(item)
            except (DomainError, PermissionDenied) as exc:
                self.message_user(request, f"{item.name}：{exc}", messages.ERROR)
            except ValidationError as exc:
                detail = "；".join(
                    f"{field}：{'，'.join(msgs)}" for field, msgs in exc.message_dict.items()
                )
                self.message_user(request, f"{item.name}：{detail}", messages.ERROR)
            else:
                self.message_user(request, _("%(name)s：操作成功") % {"name": item.name})

    @admin.action(description=gettext_lazy("发布所选事项（生成新版本）"))
    def publish_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        self._run(
            request,
            queryset,
            lambda item: services.publish_item(actor=request.user, item_id=item.pk),
        )

    @admin.action(description=gettext_lazy("暂停办理所选事项"))
    def suspend_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        reason = _("部门管理员在后台暂停办理")
        self._run(
            request,
            queryset,
            lambda item: services.suspend_item(actor=request.user, item_id=item.pk, reason=reason),
        )

    @admin.action(description=gettext_lazy("恢复办理所选事项"))
    def resume_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        self._run(
            request,
            queryset,
            lambda item: services.resume_item(actor=request.user, item_id=item.pk),
        )

    @admin.action(description=gettext_lazy("取消所选事项（不可恢复）"))
    def retire_selected(self, request: HttpRequest, queryset: QuerySet[ServiceItem]) -> None:
        reason = _("部门管理员在后台取消事项")
        self._run(
            request,
            queryset,
            lambda item: services.retire_item(actor=request.user, item_id=item.pk, reason=reason),
        )


@admin.register(ItemVersion)
class ItemVersionAdmin(CatalogStaffMixin, admin.ModelAdmin):
    """Published versions are immutable: read-only, scoped like the items."""

    list_display = ["name", "implementation_code", "version", "department", "published_at"]
    list_select_related = ["department"]
    search_fields = ["name", "implementation_code"]
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[ItemVersion]:
        allowed = managed_department_ids(request.user)
        queryset = super().get_queryset(request)
        return queryset if allowed is None else queryset.filter(department_id__in=allowed)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(BasicItem)
class BasicItemAdmin(admin.ModelAdmin):
    list_display = ["basic_code", "name", "item_type"]
    search_fields = ["basic_code", "name"]
    list_filter = ["item_type"]


@admin.register(Theme)
class ThemeAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "audience", "order"]
    list_filter = ["audience"]
