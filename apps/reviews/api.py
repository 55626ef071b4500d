"""好差评 API (/api/v1/reviews/): department reads scoped to the client's department, public
statistics, and the applicant's rating of a case. No response carries a rater's identity."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.identity.permissions import DepartmentClientPermission, get_client_department
from apps.reviews import selectors, services
from apps.reviews.constants import GB_CODE, NATIONAL_CODE, RatingChannel
from apps.reviews.models import Rating, RectificationTicket


class RatingOutput(serializers.ModelSerializer):
    """A rating without its rater: only whether it was real-name and anonymous."""

    gb_code = serializers.SerializerMethodField(help_text="GB/T 39046 A.8 满意度代码")
    national_code = serializers.SerializerMethodField(help_text="国家好差评接口 satisfaction")
    real_name = serializers.SerializerMethodField()
    comment = serializers.SerializerMethodField()
    service_kind = serializers.CharField(source="service.kind")
    item_code = serializers.CharField(source="service.item_code")
    case_number = serializers.SerializerMethodField()
    ticket_status = serializers.SerializerMethodField()

    class Meta:
        model = Rating
        fields = [
            "id",
            "created_at",
            "sequence",
            "grade",
            "gb_code",
            "national_code",
            "channel",
            "source",
            "options",
            "comment",
            "moderation",
            "is_anonymous",
            "real_name",
            "is_excluded",
            "service_kind",
            "item_code",
            "case_number",
            "ticket_status",
        ]

    def get_gb_code(self, rating: Rating) -> int:
        return GB_CODE[rating.grade]

    def get_national_code(self, rating: Rating) -> int:
        return NATIONAL_CODE[rating.grade]

    def get_real_name(self, rating: Rating) -> bool:
        return rating.rater_id is not None

    def get_comment(self, rating: Rating) -> str:
        # Held or rejected text stays inside the platform until released.
        return rating.comment if rating.moderation in ("not_needed", "approved") else ""

    def get_case_number(self, rating: Rating) -> str:
        case = rating.service.case
        return case.number if case is not None else ""

    def get_ticket_status(self, rating: Rating) -> str:
        ticket = getattr(rating, "ticket", None)
        return ticket.status if ticket is not None else ""


@extend_schema(tags=["reviews"], summary="本部门收到的评价（不含评价人身份）")
class RatingListApi(generics.ListAPIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "reviews"}
    serializer_class = RatingOutput

    def get_queryset(self) -> Any:
        department = get_client_department(self.request)
        return (
            Rating.objects.filter(service__department=department)
            .select_related("service__case", "ticket")
            .defer("rater")
        )


class TicketOutput(serializers.ModelSerializer):
    grade = serializers.CharField(source="rating.grade")

    class Meta:
        model = RectificationTicket
        fields = [
            "id",
            "created_at",
            "status",
            "grade",
            "callback_due",
            "rectify_due",
            "appeal_due",
            "first_follow_up_at",
            "finding",
            "measures",
            "result",
            "rectified_at",
            "rater_answer",
            "closed_at",
            "escalation_level",
        ]


@extend_schema(tags=["reviews"], summary="本部门的差评整改工单")
class TicketListApi(generics.ListAPIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "reviews"}
    serializer_class = TicketOutput

    def get_queryset(self) -> Any:
        department = get_client_department(self.request)
        return RectificationTicket.objects.filter(department=department).select_related("rating")


class StatsOutput(serializers.Serializer):
    period = serializers.CharField()
    services = serializers.IntegerField()
    ratings = serializers.IntegerField()
    active_rate = serializers.FloatField(allow_null=True)
    good_rate = serializers.FloatField(allow_null=True)
    bad_rate = serializers.FloatField(allow_null=True)
    average_score = serializers.FloatField(allow_null=True)
    rectification_rate = serializers.FloatField(allow_null=True)
    on_time_rate = serializers.FloatField(allow_null=True)
    follow_up_rate = serializers.FloatField(allow_null=True)
    appeal_upheld_rate = serializers.FloatField(allow_null=True)


@extend_schema(
    tags=["reviews"], summary="公开统计：近 12 个月逐月指标", responses=StatsOutput(many=True)
)
class StatsApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        monthly = selectors.monthly_figures(periods=selectors.last_periods(12))
        rows = [
            {
                "period": period,
                "services": f.services,
                "ratings": f.ratings,
                "active_rate": f.active_rate,
                "good_rate": f.good_rate,
                "bad_rate": f.bad_rate,
                "average_score": f.average_score,
                "rectification_rate": f.rectification_rate,
                "on_time_rate": f.on_time_rate,
                "follow_up_rate": f.follow_up_rate,
                "appeal_upheld_rate": f.appeal_upheld_rate,
            }
            for period, f in monthly
        ]
        return Response(StatsOutput(rows, many=True).data)


class CaseRateInput(serializers.Serializer):
    grade = serializers.CharField()
    channel = serializers.ChoiceField(
        choices=[RatingChannel.PC, RatingChannel.MOBILE], default=RatingChannel.MOBILE
    )
    options = serializers.ListField(child=serializers.CharField(), required=False, default=list)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    is_anonymous = serializers.BooleanField(required=False, default=True)


@extend_schema(
    tags=["reviews"],
    summary="申请人评价已办结的办件（一事一评）",
    request=CaseRateInput,
    responses=RatingOutput,
)
class CaseRateApi(APIView):
    permission_classes = [IsAuthenticated]

    def post(self, request: Request, case_id: int) -> Response:
        data = CaseRateInput(data=request.data)
        data.is_valid(raise_exception=True)
        rating = services.rate_case(case_id=case_id, user=request.user, **data.validated_data)
        return Response(RatingOutput(rating).data, status=201)
