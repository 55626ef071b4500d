"""Catalogue API.

- Public reading (ARCHITECTURE.md contract ``GET /api/v1/catalog/items/?search=<text>``): every
  element shown is the *published* version's, never the draft.
- Department API (``/api/v1/catalog/department/items/…``): a department system (OAuth2 client
  credentials, ``catalog:read`` / ``catalog:write``) or a signed-in department administrator
  lists, creates, edits, publishes, suspends, resumes and retires its OWN department's items.
  Another department's item answers 404 on lookup and 403 on create; validation problems,
  including everything that blocks publishing, come back as 400 with field errors.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from django.db.models import Prefetch, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.catalog import cache as catalog_cache
from apps.catalog import search, selectors, services
from apps.catalog.constants import ItemType, ThemeAudience
from apps.catalog.models import (
    ELEMENT_FIELDS,
    MATERIAL_FIELDS,
    VARIANT_FIELDS,
    DraftMaterial,
    DraftVariant,
    HandlingVariant,
    ItemMaterial,
    ItemVersion,
    ServiceItem,
)
from apps.catalog.permissions import CatalogManagerPermission, request_catalog_actor
from apps.core.drf import DefaultCursorPagination, ValidatedPageNumberPagination
from apps.core.models import AdministrativeLevel, Department


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


class ItemPagination(ValidatedPageNumberPagination):
    page_size = 20
    page_size_query_param = "page_size"
    max_page_size = 100


def _list_rows(queryset: QuerySet[ServiceItem]) -> QuerySet[ServiceItem]:
    """The list reads only the item columns it shows: searching ranks and sorts thousands of
    rows at 10,000 items, and carrying the draft's and the version's sixty element columns
    through that sort doubled its cost (bench/bench_catalog.py). The page's versions, with
    their materials and variants, come in constant prefetch queries."""
    return (
        queryset.select_related(None)
        .select_related("department__region")
        .only(
            "implementation_code",
            "status",
            "current_version",
            "department",
            "department__uscc",
            "department__name",
            "department__level",
            "department__region",
            "department__region__code",
        )
        .prefetch_related(
            Prefetch("current_version", queryset=ItemVersion.objects.all()),
            Prefetch(
                "current_version__materials",
                queryset=ItemMaterial.objects.order_by("order", "pk"),
            ),
            Prefetch(
                "current_version__variants", queryset=HandlingVariant.objects.order_by("order")
            ),
            Prefetch(
                "versions",
                queryset=ItemVersion.objects.only(
                    "pk", "item_id", "version", "published_at", "change_note"
                ).order_by("-version"),
            ),
        )
    )


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


class ItemListFilter(serializers.Serializer):
    """The list's query parameters, validated: a bad value answers 400 in the API error format
    (issue 15 §2), never a server error, and the schema states each parameter's type."""

    search = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=200,
        trim_whitespace=False,
        help_text="中文、拼音或拼音首字母，按相关度排序",
    )
    department = serializers.CharField(
        required=False, allow_blank=True, max_length=18, help_text="实施主体统一社会信用代码"
    )
    item_type = serializers.ChoiceField(
        choices=ItemType.choices,
        required=False,
        allow_blank=True,
        help_text="事项类型（GB/T 39046 表A.1）",
    )
    region = serializers.CharField(
        required=False, allow_blank=True, max_length=12, help_text="行政区划代码：含上级区划的事项"
    )
    audience = serializers.ChoiceField(
        choices=ThemeAudience.choices,
        required=False,
        allow_blank=True,
        help_text="person 个人 / enterprise 法人",
    )
    level = serializers.ChoiceField(
        choices=AdministrativeLevel.choices, required=False, help_text="部门层级 2 省 3 市 4 县"
    )
    theme = serializers.CharField(
        required=False, allow_blank=True, max_length=32, help_text="主题（人生事件/企业阶段）编码"
    )
    code = serializers.CharField(
        required=False, allow_blank=True, max_length=50, help_text="实施编码或基本编码"
    )


FILTER_PARAMETERS = [ItemListFilter]


@extend_schema(tags=["catalog"], summary="事项列表与搜索", parameters=FILTER_PARAMETERS)
class ItemListApi(generics.ListAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = ItemListOutput
    pagination_class = ItemPagination
    filter_backends: list[Any] = []

    def get_queryset(self) -> QuerySet[ServiceItem]:
        filters = ItemListFilter(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        params = filters.validated_data
        queryset = selectors.filter_items(
            selectors.published_items(),
            region_code=params.get("region", ""),
            audience=params.get("audience", ""),
            department=params.get("department", ""),
            item_type=params.get("item_type", ""),
            level=str(params.get("level", "")),
            theme=params.get("theme", ""),
        )
        code = params.get("code", "")
        if code:
            # The implementation code is frozen at the first publish; the basic code is the
            # published version's (a draft may change it).
            queryset = queryset.filter(
                Q(implementation_code=code) | Q(current_version__basic_code=code)
            )
        text = params.get("search", "")
        if text.strip():
            queryset = selectors.search_items(text, base=queryset).items
        else:
            queryset = queryset.order_by("implementation_code")
        return _list_rows(queryset)

    def _version_ids(self, start: int, stop: int | None) -> list[int]:
        with self._reading():
            return list(
                self.get_queryset().values_list("current_version_id", flat=True)[start:stop]
            )

    def _count(self) -> int:
        with self._reading():
            return self.get_queryset().count()

    def _rows(self, version_ids: list[int]) -> list[dict[str, Any]]:
        def load(missing: list[int]) -> dict[int, dict[str, Any]]:
            with self._reading():  # only when a row is not cached: a warm page runs no SQL
                return _serialise_rows(missing)

        return catalog_cache.api_rows(version_ids, load)

    def _reading(self) -> AbstractContextManager[None]:
        if self.request.query_params.get("search", "").strip():
            return selectors.search_transaction()  # every search statement through the GIN index
        return nullcontext()

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A page of published items: the page's version ids and the count are cached under the
        catalogue generation, each row's serialisation under its version id
        (``apps.catalog.cache``); SQL runs only on a miss."""
        params = request.query_params
        text = params.get("search", "")
        key = sorted(
            (name, params.getlist(name))
            for name in params
            if name not in ("page", "page_size", "search")
        )
        results = catalog_cache.CachedResults(
            kind="api-list",
            params=(search.normalise(text) if text.strip() else "", key),
            compute_ids=self._version_ids,
            compute_count=self._count,
            rows=self._rows,
        )
        page = self.paginate_queryset(results)  # type: ignore[arg-type]
        return self.get_paginated_response(page)


def _serialise_rows(version_ids: list[int]) -> dict[int, dict[str, Any]]:
    """The list rows of the items whose current version is one of ``version_ids``."""
    items = _list_rows(selectors.published_items().filter(current_version_id__in=version_ids))
    return {
        item.current_version_id: json.loads(json.dumps(ItemListOutput(item).data, default=str))
        for item in items
    }


@extend_schema(tags=["catalog"], summary="事项详情（当前发布版本的全部要素）")
class ItemDetailApi(generics.RetrieveAPIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    serializer_class = ItemDetailOutput
    lookup_field = "implementation_code"
    lookup_url_kwarg = "code"

    def get_queryset(self) -> QuerySet[ServiceItem]:
        return _with_children(selectors.visible_items())


# --- department API -------------------------------------------------------------------------
#
# The input serializers below are ModelSerializers used only to *parse* (types, choices, lengths):
# the element list is declared once on the model, and a hand-written copy of some sixty fields
# would drift from it. They are never saved; the services validate the whole item again
# (``full_clean``) and write it (STYLE.md V2's intent: inputs do not write models).


def _optional(fields: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    return {name: {"required": False, "validators": []} for name in fields}


class MaterialInput(serializers.ModelSerializer):
    class Meta:
        model = DraftMaterial
        fields = list(MATERIAL_FIELDS)
        validators: list[Any] = []


class VariantInput(serializers.ModelSerializer):
    class Meta:
        model = DraftVariant
        fields = list(VARIANT_FIELDS)
        validators: list[Any] = []


class ItemInput(serializers.ModelSerializer):
    """Elements of the draft plus its materials, variants and themes (all optional: PATCH
    semantics; lists given replace the draft's lists)."""

    department = serializers.CharField(
        required=False,
        max_length=18,
        help_text="实施主体统一社会信用代码；部门客户端省略时为本部门",
    )
    materials = MaterialInput(many=True, required=False)
    variants = VariantInput(many=True, required=False)
    themes = serializers.ListField(
        child=serializers.SlugField(max_length=32), required=False, help_text="主题编码"
    )

    class Meta:
        model = ServiceItem
        fields = ["department", *ELEMENT_FIELDS, "materials", "variants", "themes"]
        extra_kwargs = _optional(ELEMENT_FIELDS)
        validators: list[Any] = []


class PublishInput(serializers.Serializer):
    change_note = serializers.CharField(
        required=False, allow_blank=True, max_length=300, default=""
    )


class ReasonInput(serializers.Serializer):
    reason = serializers.CharField(max_length=300)


class DraftMaterialOutput(serializers.ModelSerializer):
    class Meta:
        model = DraftMaterial
        fields = list(MATERIAL_FIELDS)


class DraftVariantOutput(serializers.ModelSerializer):
    class Meta:
        model = DraftVariant
        fields = list(VARIANT_FIELDS)


class VersionOutput(serializers.ModelSerializer):
    class Meta:
        model = ItemVersion
        fields = ["version", "published_at", "published_via", "change_note"]


class ManagedItemOutput(serializers.ModelSerializer):
    """An item as its department maintains it: the draft elements and lists, the state, the
    current published version number and every version."""

    code = serializers.CharField(source="implementation_code")
    department = serializers.CharField(source="department.uscc")
    current_version = serializers.IntegerField(source="current_version.version", default=None)
    materials = DraftMaterialOutput(source="draft_materials", many=True)
    variants = DraftVariantOutput(source="draft_variants", many=True)
    themes = serializers.SlugRelatedField(slug_field="code", many=True, read_only=True)
    versions = VersionOutput(many=True)
    guide_url = serializers.SerializerMethodField()

    class Meta:
        model = ServiceItem
        fields = [
            "id",
            "code",
            "department",
            "status",
            "status_reason",
            "has_unpublished_changes",
            "current_version",
            *ELEMENT_FIELDS,
            "materials",
            "variants",
            "themes",
            "versions",
            "guide_url",
        ]

    def get_guide_url(self, item: ServiceItem) -> str | None:
        if item.current_version_id is None:
            return None
        return f"/catalog/items/{item.implementation_code}/"


def _parse(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


def _split(data: dict[str, Any]) -> dict[str, Any]:
    """Element fields → ``fields``; the lists stay apart (``None`` = leave unchanged)."""
    return {
        "fields": {key: data[key] for key in ELEMENT_FIELDS if key in data},
        "materials": data.get("materials"),
        "variants": data.get("variants"),
        "theme_codes": data.get("themes"),
    }


def _target_department(actor: Any, uscc: str) -> Department:
    """The department an item is created for: the one named, else the client's own."""
    if uscc:
        department = Department.objects.filter(uscc=uscc).first()
        if department is None:
            raise serializers.ValidationError({"department": [_("实施主体不存在")]})
        return department
    department = getattr(actor, "department", None)
    if not isinstance(department, Department):
        raise serializers.ValidationError({"department": [_("请填写实施主体统一社会信用代码")]})
    return department


class _ManageApi(APIView):
    permission_classes = [CatalogManagerPermission]
    required_scopes = {
        "GET": "catalog:read",
        "POST": "catalog:write",
        "PATCH": "catalog:write",
    }

    def _item(self, request: Request, code: str) -> ServiceItem:
        return selectors.get_manageable_item(request_catalog_actor(request), code)

    def _render(self, request: Request, item_id: int, status_code: int = 200) -> Response:
        item = selectors.with_draft_children(ServiceItem.objects.filter(pk=item_id)).get()
        return Response(ManagedItemOutput(item).data, status=status_code)


@extend_schema(tags=["catalog-department"])
class ManagedItemListCreateApi(_ManageApi):
    pagination_class = type(
        "ManagedItemPagination", (DefaultCursorPagination,), {"ordering": "implementation_code"}
    )

    @extend_schema(summary="本部门事项列表（含草稿）", responses=ManagedItemOutput(many=True))
    def get(self, request: Request) -> Response:
        actor = request_catalog_actor(request)
        queryset = selectors.with_draft_children(selectors.list_manageable_items(actor))
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        assert page is not None
        return paginator.get_paginated_response(ManagedItemOutput(page, many=True).data)

    @extend_schema(
        summary="新建事项草稿（含材料）", request=ItemInput, responses={201: ManagedItemOutput}
    )
    def post(self, request: Request) -> Response:
        actor = request_catalog_actor(request)
        data = _parse(ItemInput, request)
        department = _target_department(actor, data.get("department", ""))
        parts = _split(data)
        item = services.create_item(
            actor=actor,
            department=department,
            fields=parts["fields"],
            materials=parts["materials"] or (),
            variants=parts["variants"] or (),
            theme_codes=parts["theme_codes"] or (),
        )
        return self._render(request, item.pk, status.HTTP_201_CREATED)


@extend_schema(tags=["catalog-department"])
class ManagedItemDetailApi(_ManageApi):
    @extend_schema(summary="本部门事项（草稿、状态与全部版本）", responses=ManagedItemOutput)
    def get(self, request: Request, code: str) -> Response:
        actor = request_catalog_actor(request)
        item = selectors.get_manageable_item(actor, code, children=True)
        return Response(ManagedItemOutput(item).data)

    @extend_schema(
        summary="修改事项草稿（给出的材料/办理项列表整体替换）",
        request=ItemInput,
        responses=ManagedItemOutput,
    )
    def patch(self, request: Request, code: str) -> Response:
        item = self._item(request, code)
        data = _parse(ItemInput, request)
        if data.get("department") and data["department"] != item.department.uscc:
            raise serializers.ValidationError({"department": [_("事项的实施主体不能修改")]})
        services.update_item(actor=request_catalog_actor(request), item_id=item.pk, **_split(data))
        return self._render(request, item.pk)


@extend_schema(tags=["catalog-department"])
class ManagedItemPublishApi(_ManageApi):
    @extend_schema(
        summary="发布（校验后生成不可变的新版本）",
        request=PublishInput,
        responses={201: ManagedItemOutput},
    )
    def post(self, request: Request, code: str) -> Response:
        item = self._item(request, code)
        data = _parse(PublishInput, request)
        services.publish_item(
            actor=request_catalog_actor(request), item_id=item.pk, change_note=data["change_note"]
        )
        return self._render(request, item.pk, status.HTTP_201_CREATED)


@extend_schema(tags=["catalog-department"])
class ManagedItemSuspendApi(_ManageApi):
    @extend_schema(summary="暂停办理", request=ReasonInput, responses=ManagedItemOutput)
    def post(self, request: Request, code: str) -> Response:
        item = self._item(request, code)
        data = _parse(ReasonInput, request)
        services.suspend_item(
            actor=request_catalog_actor(request), item_id=item.pk, reason=data["reason"]
        )
        return self._render(request, item.pk)


@extend_schema(tags=["catalog-department"])
class ManagedItemResumeApi(_ManageApi):
    @extend_schema(summary="恢复办理（沿用当前版本）", request=None, responses=ManagedItemOutput)
    def post(self, request: Request, code: str) -> Response:
        item = self._item(request, code)
        services.resume_item(actor=request_catalog_actor(request), item_id=item.pk)
        return self._render(request, item.pk)


@extend_schema(tags=["catalog-department"])
class ManagedItemRetireApi(_ManageApi):
    @extend_schema(summary="取消事项（不可恢复）", request=ReasonInput, responses=ManagedItemOutput)
    def post(self, request: Request, code: str) -> Response:
        item = self._item(request, code)
        data = _parse(ReasonInput, request)
        services.retire_item(
            actor=request_catalog_actor(request), item_id=item.pk, reason=data["reason"]
        )
        return self._render(request, item.pk)
