"""Public read API of published bundles with their graphs (ARCHITECTURE.md: /api/v1/bundles/),
and, for a department's system, where one of its child cases sits in its bundle's graph."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.bundles import selectors
from apps.bundles.models import BundleVersion
from apps.cases.selectors import get_case_for_department
from apps.identity.permissions import DepartmentClientPermission, get_client_department


class BundleListOutput(serializers.Serializer):
    code = serializers.CharField(source="bundle.code")
    name = serializers.CharField()
    version = serializers.IntegerField()
    audience = serializers.CharField()
    theme = serializers.CharField(source="theme.code", default="")
    lead_department = serializers.CharField(source="lead_department.name")
    promised_limit_days = serializers.IntegerField()
    batch = serializers.CharField()


class ComponentOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField(source="item_version.name")
    implementation_code = serializers.CharField(source="item_version.implementation_code")
    item_version = serializers.IntegerField(source="item_version.version")
    department = serializers.CharField(source="item_version.department.name")
    promised_limit_days = serializers.IntegerField(source="item_version.promised_limit_days")
    condition = serializers.CharField()


class QuestionOutput(serializers.Serializer):
    key = serializers.CharField()
    text = serializers.CharField()
    kind = serializers.CharField()
    choices = serializers.JSONField()
    condition = serializers.CharField()


class BundleDetailOutput(BundleListOutput):
    summary = serializers.CharField()
    published_at = serializers.DateTimeField()
    partner_departments = serializers.SerializerMethodField()
    components = ComponentOutput(many=True, source="components.all")
    edges = serializers.SerializerMethodField()
    questions = QuestionOutput(many=True, source="questions.all")
    materials = serializers.SerializerMethodField()
    outputs = serializers.SerializerMethodField()
    savings = serializers.SerializerMethodField()

    def get_partner_departments(self, version: BundleVersion) -> list[str]:
        return [d.name for d in version.partner_departments.all()]

    def get_edges(self, version: BundleVersion) -> list[dict[str, str]]:
        return [{"upstream": e.upstream, "downstream": e.downstream} for e in version.edges.all()]

    def get_materials(self, version: BundleVersion) -> list[dict[str, Any]]:
        return [
            {
                "key": m.key,
                "name": m.name,
                "routes": [{"component": t.component, "slot": t.slot_key} for t in m.targets.all()],
            }
            for m in version.materials.all()
        ]

    def get_outputs(self, version: BundleVersion) -> list[dict[str, str]]:
        return [
            {
                "source_component": o.source_component,
                "source_kind": o.source_kind,
                "source_field": o.source_field,
                "target_component": o.target_component,
                "target_kind": o.target_kind,
                "target_name": o.target_name,
            }
            for o in version.outputs.all()
        ]

    def get_savings(self, version: BundleVersion) -> dict[str, dict[str, int]]:
        """Every component applying (the widest case), computed from the catalogue."""
        return selectors.savings_for(version, list(version.components.all()))


@extend_schema(
    tags=["bundles"], summary="已发布的一件事列表", responses=BundleListOutput(many=True)
)
class BundleListApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        versions = selectors.list_published_versions()
        return Response(BundleListOutput(versions, many=True).data)


@extend_schema(
    tags=["bundles"],
    summary="一件事详情：子事项、前后置关系图、引导问题、共享材料、结果传递与减负对比",
    responses=BundleDetailOutput,
)
class BundleDetailApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def get(self, request: Request, code: str) -> Response:
        version = selectors.get_published_version(code)
        if version is None:
            raise NotFound
        return Response(BundleDetailOutput(version).data)


class GraphNodeOutput(serializers.Serializer):
    key = serializers.CharField()
    name = serializers.CharField()
    department = serializers.CharField()
    state = serializers.CharField()
    state_label = serializers.CharField()
    waits_on = serializers.ListField(child=serializers.CharField(), source="waits_on_keys")
    feeds = serializers.ListField(child=serializers.CharField(), source="feeds_keys")
    is_this_case = serializers.BooleanField()


class CaseGraphOutput(serializers.Serializer):
    bundle = serializers.CharField(source="application.bundle.code")
    name = serializers.CharField(source="application.version.name")
    version = serializers.IntegerField(source="application.version.version")
    status = serializers.CharField(source="application.status")
    deadline = serializers.DateTimeField(source="application.deadline")
    component = serializers.CharField(source="this_key")
    waiting_on = serializers.ListField(child=serializers.CharField())
    nodes = GraphNodeOutput(many=True)


@extend_schema(
    tags=["bundles"],
    summary="本部门办件在所属一件事中的位置：前置事项、后续事项及各自状态",
    responses=CaseGraphOutput,
)
class BundleCaseGraphApi(APIView):
    """A department's system asks where its child case sits: 404 for cases that are not its
    own (or not visible to departments yet) and for cases outside any bundle."""

    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "cases:read"}

    def get(self, request: Request, case_id: int) -> Response:
        department = get_client_department(request)
        case = get_case_for_department(department_id=department.pk, case_id=case_id)
        graph = selectors.bundle_graph_for_case(case.pk)
        if graph is None:
            raise NotFound
        return Response(CaseGraphOutput(graph).data)
