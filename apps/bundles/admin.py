"""Admin: draft versions are edited here; publishing runs the checks (services)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from apps.bundles import services
from apps.bundles.constants import VersionStatus
from apps.bundles.models import (
    Bundle,
    BundleApplication,
    BundleChild,
    BundleComponent,
    BundleEdge,
    BundleField,
    BundleFieldTarget,
    BundleMaterial,
    BundleMaterialTarget,
    BundleOutput,
    BundleQuestion,
    BundleVersion,
)
from apps.core.exceptions import DomainError


class _DraftOnly:
    """Inlines of a published or retired version are read-only."""

    def has_change_permission(self, request: Any, obj: Any = None) -> bool:
        return obj is None or obj.status == VersionStatus.DRAFT

    has_add_permission = has_change_permission
    has_delete_permission = has_change_permission


class ComponentInline(_DraftOnly, admin.TabularInline):
    model = BundleComponent
    extra = 0
    fields = ["key", "item", "condition", "order", "item_version"]
    readonly_fields = ["item_version"]
    autocomplete_fields = ["item"]


class EdgeInline(_DraftOnly, admin.TabularInline):
    model = BundleEdge
    extra = 0


class QuestionInline(_DraftOnly, admin.TabularInline):
    model = BundleQuestion
    extra = 0


class FieldInline(_DraftOnly, admin.TabularInline):
    model = BundleField
    extra = 0
    show_change_link = True


class MaterialInline(_DraftOnly, admin.TabularInline):
    model = BundleMaterial
    extra = 0
    show_change_link = True


class OutputInline(_DraftOnly, admin.TabularInline):
    model = BundleOutput
    extra = 0


@admin.register(BundleVersion)
class BundleVersionAdmin(admin.ModelAdmin):
    list_display = ["name", "bundle", "version", "status", "lead_department", "published_at"]
    list_filter = ["status", "audience"]
    search_fields = ["name", "bundle__code"]
    inlines = [
        ComponentInline,
        EdgeInline,
        QuestionInline,
        FieldInline,
        MaterialInline,
        OutputInline,
    ]
    filter_horizontal = ["partner_departments"]
    actions = ["publish"]

    def get_readonly_fields(self, request: Any, obj: Any = None) -> list[str]:
        base = ["status", "published_at", "published_by", "retired_at"]
        if obj is not None and obj.status != VersionStatus.DRAFT:
            return [f.name for f in BundleVersion._meta.fields] + ["partner_departments"]
        return base

    @admin.action(description=_("发布所选草稿版本"))
    def publish(self, request: Any, queryset: Any) -> None:
        for version in queryset:
            try:
                services.publish_bundle_version(actor=request.user, version_id=version.pk)
            except DomainError as exc:
                self.message_user(request, f"{version}：{exc.message}", messages.ERROR)
            else:
                self.message_user(request, _("已发布：%(v)s") % {"v": version}, messages.SUCCESS)


@admin.register(Bundle)
class BundleAdmin(admin.ModelAdmin):
    list_display = ["code", "current_version"]
    search_fields = ["code"]
    readonly_fields = ["current_version"]


class FieldTargetInline(admin.TabularInline):
    model = BundleFieldTarget
    extra = 0


@admin.register(BundleField)
class BundleFieldAdmin(admin.ModelAdmin):
    list_display = ["key", "version", "required"]
    inlines = [FieldTargetInline]


class MaterialTargetInline(admin.TabularInline):
    model = BundleMaterialTarget
    extra = 0


@admin.register(BundleMaterial)
class BundleMaterialAdmin(admin.ModelAdmin):
    list_display = ["key", "name", "version"]
    inlines = [MaterialTargetInline]


class ChildInline(admin.TabularInline):
    model = BundleChild
    extra = 0
    can_delete = False
    fields = ["component", "state", "case", "attempts", "last_error", "decision"]
    readonly_fields = fields

    def has_add_permission(self, request: Any, obj: Any = None) -> bool:
        return False


@admin.register(BundleApplication)
class BundleApplicationAdmin(admin.ModelAdmin):
    list_display = ["pk", "version", "applicant_name", "status", "submitted_at", "deadline"]
    list_filter = ["status"]
    inlines = [ChildInline]
    exclude = ["form_encrypted"]
    readonly_fields = [
        "bundle",
        "version",
        "applicant_user",
        "enterprise",
        "applicant_name",
        "answers",
        "status",
        "status_note",
        "submitted_at",
        "deadline",
        "concluded_at",
        "withdrawn_at",
        "advanced_at",
    ]

    def has_add_permission(self, request: Any) -> bool:
        return False
