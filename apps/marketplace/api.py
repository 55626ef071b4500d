"""中介超市 API (/api/v1/marketplace/): read access for a 行业主管部门's systems, limited to the
intermediary services that department keeps (its own industry)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.exceptions import NotFound

from apps.identity.permissions import DepartmentClientPermission, get_client_department
from apps.marketplace.constants import ProjectStatus
from apps.marketplace.models import Agency, Project, Registration


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
