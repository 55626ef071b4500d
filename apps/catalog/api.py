"""Catalogue API (ARCHITECTURE.md contract: ``GET /api/v1/catalog/items/?search=<text>``).

Reading is public. Every element shown is the *published* version's, never the draft.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Prefetch, QuerySet
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny

from apps.catalog import selectors
from apps.catalog.models import HandlingVariant, ItemMaterial, ItemVersion, ServiceItem


class MaterialOutput(serializers.ModelSerializer):
    class Meta:
        model = ItemMaterial
        fields = [
            "key",
            "name",
            "requirement",
            "condition_note",
            "form",
            "copies",
            "source",
            "issuing_body",
            "is_key",
            "licence_types",
            "shared_sources",
            "notes",
        ]


class VariantOutput(serializers.ModelSerializer):
    class Meta:
        model = HandlingVariant
        fields = ["code", "name", "description"]


class VersionSummaryOutput(serializers.ModelSerializer):
    class Meta:
        model = ItemVersion
        fields = ["version", "published_at", "change_note"]


class ItemListOutput(serializers.Serializer):
    code = serializers.CharField(source="implementation_code")
    name = serializers.CharField(source="current_version.name")
    basic_code = serializers.CharField(source="current_version.basic_code")
    local_code = serializers.CharField(source="current_version.local_implementation_code")
    status = serializers.CharField()
    item_type = serializers.CharField(source="current_version.item_type")
    item_type_name = serializers.CharField(source="current_version.get_item_type_display")
    department = serializers.SerializerMethodField()
    version = serializers.IntegerField(source="current_version.version")
    case_kind = serializers.CharField(source="current_version.case_kind")
    legal_limit_days = serializers.IntegerField(source="current_version.legal_limit_days")
    promised_limit_days = serializers.IntegerField(source="current_version.promised_limit_days")
    visits_required = serializers.IntegerField(source="current_version.visits_required")
    channel = serializers.CharField(source="current_version.channel")
    min_assurance_level = serializers.IntegerField(source="current_version.min_assurance_level")
    materials = MaterialOutput(source="current_version.materials", many=True)
    versions = VersionSummaryOutput(many=True)
    guide_url = serializers.SerializerMethodField()

    def get_department(self, item: ServiceItem) -> dict[str, Any]:
        department = item.department
        return {
            "uscc": department.uscc,
            "name": department.name,
            "level": department.level,
            "region_code": department.region.code,
        }

    def get_guide_url(self, item: ServiceItem) -> str:
        return f"/catalog/items/{item.implementation_code}/"


class ItemDetailOutput(ItemListOutput):
    elements = serializers.SerializerMethodField()
    variants = VariantOutput(source="current_version.variants", many=True)

    def get_elements(self, item: ServiceItem) -> dict[str, Any]:
        version = item.current_version
        assert version is not None
        return {
            field: getattr(version, field)
            for field in (
                "legal_basis",
                "power_source",
                "exercise_level",
                "body_nature",
                "service_objects",
                "handling_forms",
                "online_depth",
                "conditions",
                "process_steps",
                "special_procedures",
                "result_name",
                "result_type",
                "result_licence_type",
                "is_free",
                "fee_items",
                "handling_address",
                "handling_time",
                "consult_phone",
                "complaint_phone",
                "allows_tolerance",
                "form_schema",
                "universal_scope",
            )
        }


class ItemPagination(PageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def _with_children(queryset: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    return queryset.select_related("department__region").prefetch_related(
        Prefetch(
            "current_version__materials", queryset=ItemMaterial.objects.order_by("order", "pk")
        ),
        Prefetch("current_version__variants", queryset=HandlingVariant.objects.order_by("order")),
        Prefetch(
            "versions",
            queryset=ItemVersion.objects.only(
                "pk", "item_id", "version", "published_at", "change_note"
            ).order_by("-version"),
        ),
    )


FILTER_PARAMETERS = [
    OpenApiParameter("search", str, description="中文、拼音或拼音首字母，按相关度排序"),
    OpenApiParameter("department", str, description="实施主体统一社会信用代码"),
    OpenApiParameter("item_type", str, description="事项类型（GB/T 39046 表A.1）"),
    OpenApiParameter("region", str, description="行政区划代码：含上级区划的事项"),
    OpenApiParameter("audience", str, description="person 个人 / enterprise 法人"),
    OpenApiParameter("level", int, description="部门层级 2 省 3 市 4 县"),
    OpenApiParameter("theme", str, description="主题（人生事件/企业阶段）编码"),
    OpenApiParameter("code", str, description="实施编码或基本编码"),
]


@extend_schema(tags=["catalog"], summary="事项列表与搜索", parameters=FILTER_PARAMETERS)
class ItemListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = ItemListOutput
    pagination_class = ItemPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ServiceItem]:
        params = self.request.query_params
        queryset = selectors.filter_items(
            selectors.published_items(),
            region_code=params.get("region", ""),
            audience=params.get("audience", ""),
            department=params.get("department", ""),
            item_type=params.get("item_type", ""),
            level=params.get("level", ""),
            theme=params.get("theme", ""),
        )
        code = params.get("code", "")
        if code:
            queryset = queryset.filter(implementation_code=code) | queryset.filter(basic_code=code)
        text = params.get("search", "")
        if text.strip():
            queryset = selectors.search_items(text, base=queryset).items
        else:
            queryset = queryset.order_by("implementation_code")
        return _with_children(queryset)


@extend_schema(tags=["catalog"], summary="事项详情（当前发布版本的全部要素）")
class ItemDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = ItemDetailOutput
    lookup_field = "implementation_code"
    lookup_url_kwarg = "code"

    def get_queryset(self) -> QuerySet[ServiceItem]:
        return _with_children(selectors.visible_items())
