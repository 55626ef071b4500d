from django.contrib import admin
from django.http import HttpRequest

from apps.core import services
from apps.core.models import (
    CalendarDay,
    CalendarYear,
    Department,
    Region,
    ServiceHall,
    ServiceWindow,
)


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "level", "parent"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    raw_id_fields = ["parent"]
    list_select_related = ["parent"]


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    list_display = ["name", "uscc", "region", "level", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "uscc", "region__name"]
    raw_id_fields = ["region", "parent"]
    list_select_related = ["region"]


class ServiceWindowInline(admin.TabularInline):
    model = ServiceWindow
    extra = 0
    filter_horizontal = ["departments"]


@admin.register(ServiceHall)
class ServiceHallAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "region", "level", "is_active"]
    list_filter = ["level", "is_active"]
    search_fields = ["name", "code"]
    raw_id_fields = ["region"]
    inlines = [ServiceWindowInline]


@admin.register(CalendarYear)
class CalendarYearAdmin(admin.ModelAdmin):
    """Years whose State Council arrangement is entered; unknown years fall back to weekends."""

    list_display = ["year", "is_published", "source", "notice"]
    readonly_fields = ["source"]

    def save_model(
        self, request: HttpRequest, obj: CalendarYear, form: object, change: bool
    ) -> None:
        services.set_calendar_year(
            year=obj.year, is_published=obj.is_published, notice=obj.notice, actor=request.user
        )


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    """Holidays and 调休 working weekends; changes go through the audited calendar services."""

    list_display = ["date", "kind", "name", "source"]
    list_filter = ["kind", "source"]
    date_hierarchy = "date"
    readonly_fields = ["source"]

    def save_model(
        self, request: HttpRequest, obj: CalendarDay, form: object, change: bool
    ) -> None:
        services.set_calendar_day(day=obj.date, kind=obj.kind, name=obj.name, actor=request.user)

    def delete_model(self, request: HttpRequest, obj: CalendarDay) -> None:
        services.delete_calendar_day(day=obj.date, actor=request.user)

    def delete_queryset(self, request: HttpRequest, queryset: object) -> None:
        for day in list(queryset.values_list("date", flat=True)):  # type: ignore[attr-defined]
            services.delete_calendar_day(day=day, actor=request.user)
