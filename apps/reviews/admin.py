"""Administrators configure the 好差评 rules here; every change goes through the audited
configuration services."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from apps.reviews.models import ModerationWord, ReviewPolicy, ServiceAuthority
from apps.reviews.services.configuration import delete_configuration, save_configuration


class AuditedConfigurationAdmin(admin.ModelAdmin):
    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        save_configuration(obj=obj, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        delete_configuration(obj=obj, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: Any) -> None:
        for obj in list(queryset):
            delete_configuration(obj=obj, actor=request.user)


@admin.register(ReviewPolicy)
class ReviewPolicyAdmin(AuditedConfigurationAdmin):
    list_display = [
        "region",
        "default_after_days",
        "callback_days",
        "rectify_days",
        "appeal_days",
        "feedback_days",
    ]
    raw_id_fields = ["region"]
    list_select_related = ["region"]
    search_fields = ["region__name", "region__code"]


@admin.register(ModerationWord)
class ModerationWordAdmin(AuditedConfigurationAdmin):
    list_display = ["word", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["word"]


@admin.register(ServiceAuthority)
class ServiceAuthorityAdmin(AuditedConfigurationAdmin):
    list_display = ["department"]
    raw_id_fields = ["department"]
    list_select_related = ["department"]
    search_fields = ["department__name"]
