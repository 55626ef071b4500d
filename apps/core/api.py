"""Core endpoints: regions, departments and the working-day calculator."""

from django_filters import rest_framework as filters
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core import calendar as working_calendar
from apps.core.drf import DefaultCursorPagination
from apps.core.models import Department, Region
from apps.core.selectors import list_departments, list_regions


class RegionOutput(serializers.ModelSerializer):
    parent_code = serializers.CharField(source="parent.code", default=None, allow_null=True)

    class Meta:
        model = Region
        fields = ["code", "name", "level", "parent_code"]


class RegionFilter(filters.FilterSet):
    parent = filters.CharFilter(field_name="parent__code", label="上级区划代码")

    class Meta:
        model = Region
        fields = ["level", "parent"]


@extend_schema(tags=["core"], summary="行政区划列表")
class RegionListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = RegionOutput
    filterset_class = RegionFilter
    pagination_class = type("RegionPagination", (DefaultCursorPagination,), {"ordering": "code"})

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return list_regions()


class DepartmentOutput(serializers.ModelSerializer):
    region_code = serializers.CharField(source="region.code")
    region_name = serializers.CharField(source="region.name")

    class Meta:
        model = Department
        fields = ["uscc", "name", "short_name", "level", "region_code", "region_name", "phone"]


class DepartmentFilter(filters.FilterSet):
    region = filters.CharFilter(field_name="region__code", label="区划代码")

    class Meta:
        model = Department
        fields = ["level", "region"]


@extend_schema(tags=["core"], summary="部门（实施主体）列表")
class DepartmentListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = DepartmentOutput
    filterset_class = DepartmentFilter
    pagination_class = type(
        "DepartmentPagination", (DefaultCursorPagination,), {"ordering": "uscc"}
    )

    def get_queryset(self):  # type: ignore[no-untyped-def]
        return list_departments()


class WorkingDaysInput(serializers.Serializer):
    start = serializers.DateField(label="起算日期", help_text="起算日当天不计入（DOMAIN.md §0.1）")
    days = serializers.IntegerField(
        label="工作日数", min_value=0, max_value=working_calendar.MAX_WORKING_DAYS
    )


class WorkingDaysOutput(serializers.Serializer):
    start = serializers.DateField()
    days = serializers.IntegerField()
    deadline = serializers.DateField(help_text="期限届满日（当日结束前有效）")
    deadline_at = serializers.DateTimeField()
    calendar_known = serializers.BooleanField(
        help_text="false 表示区间内有年份尚未发布放假安排，暂按法定节假日推算（结果为暂定）"
    )


class WorkingDaysApi(APIView):
    """Deadline calculator on the portal's working-day calendar, for departments' systems."""

    permission_classes = [AllowAny]

    @extend_schema(
        tags=["core"],
        summary="按工作日计算期限",
        parameters=[
            OpenApiParameter("start", str, description="起算日期 YYYY-MM-DD"),
            OpenApiParameter("days", int, description="工作日数"),
        ],
        responses=WorkingDaysOutput,
    )
    def get(self, request: Request) -> Response:
        params = WorkingDaysInput(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        start = params.validated_data["start"]
        days = params.validated_data["days"]
        deadline = working_calendar.add_working_days(start, days)
        calendar = working_calendar.get_calendar()
        known = all(calendar.is_known_year(year) for year in range(start.year, deadline.year + 1))
        output = WorkingDaysOutput(
            {
                "start": start,
                "days": days,
                "deadline": deadline,
                "deadline_at": working_calendar.end_of_day(deadline),
                "calendar_known": known,
            }
        )
        return Response(output.data)
