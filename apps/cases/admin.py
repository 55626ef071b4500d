"""Read-only admin for cases: every change goes through the services (audited), never here."""

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.cases import personal, selectors
from apps.cases.constants import CaseStatus
from apps.cases.models import (
    Case,
    CaseEvent,
    CaseMaterial,
    CaseNumberCounter,
    SlaPause,
    SlaWarning,
    SupplementNotice,
    ToleranceCommitment,
)


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


class CaseEventInline(admin.TabularInline):
    model = CaseEvent
    fields = [
        "created_at",
        "action",
        "from_status",
        "to_status",
        "actor_kind",
        "actor_label",
        "note",
    ]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Case)
class CaseAdmin(ReadOnlyAdmin):
    list_display = ["number", "status", "department", "channel", "received_at", "deadline"]
    list_filter = ["status", "channel", "kind"]
    search_fields = ["number"]
    list_select_related = ["department"]
    raw_id_fields = [
        "item_version",
        "applicant_user",
        "acting_user",
        "walk_in_person",
        "enterprise",
    ]
    inlines = [CaseEventInline]
    show_full_result_count = False
    # The form's personal fields are shown masked only (apps.cases.personal).
    exclude = ["form_personal"]
    readonly_fields = ["personal_fields_masked"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Case]:
        # Issue 15 §3: a draft is the applicant's private work, even for platform administrators.
        return super().get_queryset(request).filter(selectors.staff_visible())

    @admin.display(description=_("申请表个人信息（已隐藏）"))
    def personal_fields_masked(self, obj: Case) -> str:
        names = personal.personal_fields(obj.item_version)
        masked = personal.masked_form(obj)
        return "；".join(f"{name}: {masked[name]}" for name in names if name in masked)


@admin.register(CaseMaterial)
class CaseMaterialAdmin(ReadOnlyAdmin):
    list_display = ["case", "slot_key", "source", "status", "content_type", "size"]
    list_filter = ["source", "status"]
    raw_id_fields = ["case"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[CaseMaterial]:
        # The files of a draft are as private as the draft (issue 15 §3).
        return super().get_queryset(request).exclude(case__status=CaseStatus.DRAFT)


@admin.register(SupplementNotice)
class SupplementNoticeAdmin(ReadOnlyAdmin):
    list_display = ["case", "sequence", "due_at", "fulfilled_at"]
    raw_id_fields = ["case"]


@admin.register(SlaPause)
class SlaPauseAdmin(ReadOnlyAdmin):
    list_display = ["case", "kind", "started_at", "ended_at", "working_days"]
    raw_id_fields = ["case"]


@admin.register(SlaWarning)
class SlaWarningAdmin(ReadOnlyAdmin):
    list_display = ["case", "level", "deadline", "days_left", "created_at"]
    list_filter = ["level"]
    raw_id_fields = ["case"]


@admin.register(ToleranceCommitment)
class ToleranceCommitmentAdmin(ReadOnlyAdmin):
    list_display = ["case", "name", "due_at", "fulfilled_at"]
    raw_id_fields = ["case"]


@admin.register(CaseNumberCounter)
class CaseNumberCounterAdmin(ReadOnlyAdmin):
    list_display = ["code", "day", "last"]
    search_fields = ["code"]
