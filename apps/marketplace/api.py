"""中介超市 API (/api/v1/marketplace/) for a 行业主管部门's systems (OAuth2 client credentials,
bearer token), limited to the intermediary services that department keeps (its own industry):
read projects, registrations, awards and credit (``marketplace:read``); impose and lift
sanctions on agencies offering its services (``marketplace:write``, ``Idempotency-Key``
honoured). Bad input answers 400 with field errors; a rule refused answers with its reason."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.handoffs import idempotency
from apps.identity.constants import ApiScope
from apps.identity.permissions import (
    DepartmentClientPermission,
    get_client_department,
    request_api_client,
)
from apps.marketplace import services
from apps.marketplace.constants import ProjectStatus, SanctionKind
from apps.marketplace.models import Agency, Project, Registration, Sanction


class ProjectOutput(serializers.ModelSerializer):
    service_code = serializers.CharField(source="service.code")
    winner_uscc = serializers.CharField(source="winner.enterprise.uscc", default=None)
    winner_name = serializers.CharField(source="winner.enterprise.name", default=None)

    class Meta:
        model = Project
        fields = [
            "id",
            "number",
            "name",
            "service_code",
            "owner_name",
            "budget",
            "time_limit_days",
            "is_fiscal_funded",
            "method",
            "status",
            "registration_closes_at",
            "selection_at",
            "published_at",
            "failure_reason",
            "winner_uscc",
            "winner_name",
            "award_price",
            "award_note",
            "awarded_at",
            "created_at",
        ]


@extend_schema(tags=["marketplace"], summary="本行业中介服务项目（含中选结果）")
class ProjectListApi(generics.ListAPIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "marketplace:read"}
    serializer_class = ProjectOutput
    queryset = Project.objects.none()  # for the schema; get_queryset scopes to the department

    def get_queryset(self) -> Any:
        department = get_client_department(self.request)
        return Project.objects.filter(service__department=department).select_related(
            "service", "winner__enterprise"
        )


class RegistrationOutput(serializers.ModelSerializer):
    uscc = serializers.CharField(source="agency.enterprise.uscc")
    agency_name = serializers.CharField(source="agency.enterprise.name")

    class Meta:
        model = Registration
        fields = ["id", "uscc", "agency_name", "quoted_price", "total_score", "created_at"]


@extend_schema(tags=["marketplace"], summary="项目报名情况（报名截止后）")
class RegistrationListApi(generics.ListAPIView):
    """Registrations are not disclosed while registration is open, not even to the supervisor."""

    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "marketplace:read"}
    serializer_class = RegistrationOutput
    queryset = Registration.objects.none()

    def get_queryset(self) -> Any:
        department = get_client_department(self.request)
        project = Project.objects.filter(
            pk=self.kwargs["project_id"], service__department=department
        ).first()
        if project is None or project.status in (
            ProjectStatus.SUBMITTED,
            ProjectStatus.RETURNED,
            ProjectStatus.REGISTERING,
        ):
            raise NotFound
        return Registration.objects.filter(project=project).select_related("agency__enterprise")


class AgencyCreditOutput(serializers.ModelSerializer):
    uscc = serializers.CharField(source="enterprise.uscc")
    name = serializers.CharField(source="enterprise.name")

    class Meta:
        model = Agency
        fields = ["id", "uscc", "name", "status", "credit_score", "listed_at", "created_at"]


@extend_schema(tags=["marketplace"], summary="承接本行业中介服务的机构及信用分")
class AgencyCreditListApi(generics.ListAPIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "marketplace:read"}
    serializer_class = AgencyCreditOutput
    queryset = Agency.objects.none()

    def get_queryset(self) -> Any:
        department = get_client_department(self.request)
        agency_ids = Agency.objects.filter(services__service__department=department).values("pk")
        return Agency.objects.filter(pk__in=agency_ids).select_related("enterprise")


# --- writes ----------------------------------------------------------------------------------


class SanctionInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=SanctionKind.choices)
    reason = serializers.CharField(max_length=300)
    ends_on = serializers.DateField(required=False, allow_null=True, default=None)


class LiftInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class SanctionOutput(serializers.ModelSerializer):
    uscc = serializers.CharField(source="agency.enterprise.uscc")
    agency_status = serializers.CharField(source="agency.status")

    class Meta:
        model = Sanction
        fields = [
            "id",
            "uscc",
            "kind",
            "reason",
            "starts_on",
            "ends_on",
            "lifted_at",
            "lift_reason",
            "agency_status",
        ]


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _industry_agency(request: Request, agency_id: int) -> Agency:
    """An agency offering a service of the client's department; others are not found."""
    department = get_client_department(request)
    agency = Agency.objects.filter(pk=agency_id, services__service__department=department).first()
    if agency is None:
        raise NotFound
    return agency


class _WriteApi(idempotency.IdempotentPostMixin, APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"POST": ApiScope.MARKETPLACE_WRITE}


@extend_schema(
    tags=["marketplace"],
    summary="对本行业中介机构作出惩戒（警告、暂停承接、清退、黑名单）",
    request=SanctionInput,
    responses={201: SanctionOutput},
    parameters=[idempotency.OPENAPI_PARAMETER],
)
class SanctionCreateApi(_WriteApi):
    def post(self, request: Request, agency_id: int) -> Response:
        data = _valid(SanctionInput, request)
        agency = _industry_agency(request, agency_id)
        sanction = services.impose_sanction(
            agency_id=agency.pk,
            kind=data["kind"],
            reason=data["reason"],
            ends_on=data["ends_on"],
            api_client=request_api_client(request),
        )
        return Response(SanctionOutput(_reloaded(sanction)).data, status=status.HTTP_201_CREATED)


@extend_schema(
    tags=["marketplace"],
    summary="提前解除本行业中介机构的惩戒",
    request=LiftInput,
    responses={200: SanctionOutput},
    parameters=[idempotency.OPENAPI_PARAMETER],
)
class SanctionLiftApi(_WriteApi):
    def post(self, request: Request, sanction_id: int) -> Response:
        data = _valid(LiftInput, request)
        sanction = Sanction.objects.filter(pk=sanction_id).first()
        if sanction is None:
            raise NotFound
        _industry_agency(request, sanction.agency_id)
        services.lift_sanction(
            sanction_id=sanction.pk,
            reason=data["reason"],
            api_client=request_api_client(request),
        )
        return Response(SanctionOutput(_reloaded(sanction)).data)


def _reloaded(sanction: Sanction) -> Sanction:
    return Sanction.objects.select_related("agency__enterprise").get(pk=sanction.pk)
