"""加注件 over the department API (``/api/v1/licences/``; DOMAIN.md §3.6).

A department system obtains an annotated copy of a licence for one use — with a stated purpose
and a basis (a case of that holder in its department, or the holder's current authorisation),
exactly like a clerk's read — then lists its copies and downloads their sealed PDF. Obtaining a
copy is a read with a purpose, so it needs ``licences:read`` (a using department is not given
the issuing scope ``licences:write``); ``Idempotency-Key`` on the POST like every write of the
API. Another department's copy is a 404, a licence without a basis a 403; both are audited, and
every copy is a use record the holder sees in the wallet. Anyone handed a copy checks it with
``POST /api/v1/licences/verify/`` (the file) or the public page.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpResponse
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.drf import DefaultCursorPagination
from apps.handoffs import idempotency
from apps.identity.permissions import DepartmentClientPermission, request_api_client
from apps.licences import selectors, services
from apps.licences.models import AnnotatedCopy
from apps.licences.services.common import PURPOSE_MAX
from apps.licences.services.files import ANNOTATED_COPY_DAYS


def _actor(request: Request) -> services.LicenceActor:
    client = request_api_client(request)
    assert client is not None
    return services.LicenceActor.of_client(client)


class CopyOutput(serializers.ModelSerializer):
    identifier = serializers.CharField(source="licence.identifier")
    name = serializers.CharField(source="licence.name")
    type_code = serializers.CharField(source="licence.licence_type.code")
    case = serializers.IntegerField(source="use.case_id", allow_null=True)
    expired = serializers.SerializerMethodField()
    file = serializers.SerializerMethodField()

    class Meta:
        model = AnnotatedCopy
        fields = [
            "id",
            "identifier",
            "name",
            "type_code",
            "purpose",
            "case",
            "valid_until",
            "expired",
            "signed_digest",
            "created_at",
            "file",
        ]

    def get_expired(self, copy: AnnotatedCopy) -> bool:
        return copy.valid_until < timezone.localdate()

    @extend_schema_field(OpenApiTypes.URI)
    def get_file(self, copy: AnnotatedCopy) -> str:
        path = reverse("api:licences-copy-file", args=[copy.pk])
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class CopyInput(serializers.Serializer):
    purpose = serializers.CharField(
        max_length=PURPOSE_MAX, help_text="申请事由（必填，不超过200字），写入水印与用证记录"
    )
    case = serializers.IntegerField(
        required=False,
        default=None,
        min_value=1,
        help_text="本部门该持证人的办件编号（作为用证依据；无办件时须有持证人授权）",
    )
    valid_days = serializers.IntegerField(
        required=False,
        default=ANNOTATED_COPY_DAYS,
        min_value=1,
        max_value=90,
        help_text="加注件有效天数（1–90，默认30）",
    )


@extend_schema(
    tags=["licences"],
    summary="出具加注件（用证：需申请事由及办件或持证人授权）",
    request=CopyInput,
    responses={
        201: CopyOutput,
        403: OpenApiResponse(description="没有用证依据（已记录并审计）"),
        404: OpenApiResponse(description="无此证照（已审计）"),
    },
    parameters=[idempotency.OPENAPI_PARAMETER],
)
class CopyIssueApi(idempotency.IdempotentPostMixin, APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"POST": "licences:read"}

    def post(self, request: Request, identifier: str) -> Response:
        serializer = CopyInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        copy = services.issue_annotated_copy(
            identifier=identifier,
            actor=_actor(request),
            purpose=data["purpose"],
            case_id=data["case"],
            valid_days=data["valid_days"],
        )
        body = CopyOutput(copy, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)


class CopyListFilter(serializers.Serializer):
    identifier = serializers.CharField(required=False, max_length=128, help_text="电子证照标识")


@extend_schema(tags=["licences"], summary="本部门取得的加注件", parameters=[CopyListFilter])
class CopyListApi(generics.ListAPIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "licences:read"}
    serializer_class = CopyOutput
    filter_backends: list[Any] = []
    pagination_class = type(
        "CopyPagination", (DefaultCursorPagination,), {"ordering": ("-created_at", "-id")}
    )

    def get_queryset(self):  # type: ignore[no-untyped-def]
        filters = CopyListFilter(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        return selectors.copies_for_department(
            department=_actor(self.request).department,
            identifier=filters.validated_data.get("identifier", ""),
        )


def _own_copy(request: Request, copy_id: int, *, with_content: bool = False) -> AnnotatedCopy:
    actor = _actor(request)
    try:
        return selectors.get_copy_for_department(
            department=actor.department, copy_id=copy_id, with_content=with_content
        )
    except Http404:
        services.record_access_refused(actor=actor, identifier=f"copy:{copy_id}", channel="api")
        raise


@extend_schema(tags=["licences"], summary="加注件详情", responses=CopyOutput)
class CopyDetailApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "licences:read"}

    def get(self, request: Request, copy_id: int) -> Response:
        copy = _own_copy(request, copy_id)
        return Response(CopyOutput(copy, context={"request": request}).data)


@extend_schema(
    tags=["licences"],
    summary="下载加注件（带签章的 PDF）",
    responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY, description="PDF"),
        404: OpenApiResponse(description="不是本部门的加注件（已审计）"),
    },
)
class CopyFileApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "licences:read"}

    def get(self, request: Request, copy_id: int) -> HttpResponse:
        copy = _own_copy(request, copy_id, with_content=True)
        response = HttpResponse(bytes(copy.content), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="licence-copy-{copy.pk}.pdf"'
        response["X-Content-Type-Options"] = "nosniff"
        response["Cache-Control"] = "private, no-store"
        return response
