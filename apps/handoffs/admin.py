"""Admin: endpoint configuration (with key rotation) and a read-mostly view of the outbox.

Handoffs are never edited by hand; retry and re-route go through the audited services (admin
actions here, buttons on the office dead-letter screen).
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from apps.core.exceptions import DomainError
from apps.handoffs import services
from apps.handoffs.models import (
    DepartmentEndpoint,
    Handoff,
    HandoffAnswer,
    HandoffAttempt,
    SigningKey,
)


class SigningKeyInline(admin.TabularInline):
    model = SigningKey
    extra = 0
    fields = ["key_id", "secret", "is_active", "created_at", "deactivated_at"]
    readonly_fields = ["created_at", "deactivated_at"]


@admin.register(DepartmentEndpoint)
class DepartmentEndpointAdmin(admin.ModelAdmin):
    list_display = [
        "department",
        "mode",
        "push_url",
        "timeout_seconds",
        "max_attempts",
        "is_active",
    ]
    list_filter = ["mode", "is_active"]
    search_fields = ["department__name", "department__uscc", "push_url"]
    raw_id_fields = ["department"]
    list_select_related = ["department"]
    inlines = [SigningKeyInline]
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)
        # Every change is audited, also when made here rather than on the office screen.
        services.record_endpoint_admin_change(
            endpoint=form.instance,
            actor=request.user,
            keys=list(form.instance.keys.filter(is_active=True).values_list("key_id", flat=True)),
        )


class HandoffAttemptInline(admin.TabularInline):
    model = HandoffAttempt
    extra = 0
    can_delete = False
    fields = ["number", "mode", "outcome", "status_code", "duration_ms", "error", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class HandoffAnswerInline(admin.TabularInline):
    model = HandoffAnswer
    extra = 0
    can_delete = False
    fields = ["kind", "idempotency_key", "department", "handler_applied", "data", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Handoff)
class HandoffAdmin(admin.ModelAdmin):
    list_display = [
        "pk",
        "event",
        "subject_reference",
        "source_department",
        "target_department",
        "state",
        "attempts",
        "next_attempt_at",
        "created_at",
    ]
    list_filter = ["state", "mode", "event"]
    search_fields = ["subject_reference", "subject_id", "idempotency_key"]
    list_select_related = ["source_department", "target_department"]
    date_hierarchy = "created_at"
    inlines = [HandoffAttemptInline, HandoffAnswerInline]
    actions = ["retry_dead_letters"]
    # The payload is personal data encrypted at rest: never decrypted or shown here.
    exclude = ["payload"]
    readonly_fields = [field.name for field in Handoff._meta.fields if field.name != "payload"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Handoff]:
        return super().get_queryset(request).defer("payload")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description=_("重试所选死信"))
    def retry_dead_letters(self, request: HttpRequest, queryset: QuerySet[Handoff]) -> None:
        retried = 0
        for handoff in queryset.order_by("pk"):
            try:
                services.retry_handoff(handoff_id=handoff.pk, actor=request.user)
            except DomainError as exc:
                self.message_user(request, f"#{handoff.pk}: {exc.message}", messages.WARNING)
            else:
                retried += 1
        self.message_user(request, _("已重试 %(n)d 条死信") % {"n": retried}, messages.SUCCESS)
