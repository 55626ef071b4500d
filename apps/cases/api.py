"""Department case API (issue 5, Deliver 6): cases handed to the client's department.

Every view is scoped to the department of the OAuth2 client (``DepartmentClientPermission`` +
``selectors.get_case_for_department``): another department's case answers 404, exactly like a
case that does not exist. Material files are fetched through signed links that expire after
``CASES_DOWNLOAD_LINK_SECONDS``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.http import FileResponse, Http404
from drf_spectacular.utils import OpenApiResponse, extend_schema
from oauth2_provider.models import AccessToken
from rest_framework import generics, serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from apps.audit.services import record_audit_event
from apps.cases import personal, selectors, services
from apps.cases.constants import DEPARTMENT_STATES, CaseStatus, Decision, PauseKind
from apps.cases.models import Case, CaseEvent, CaseMaterial
from apps.cases.permissions import CaseActor
from apps.core import uploads
from apps.core.drf import DefaultCursorPagination
from apps.handoffs import idempotency
from apps.identity.constants import ApiScope
from apps.identity.permissions import (
    DepartmentClientPermission,
    get_client_department,
    request_api_client,
)

DOWNLOAD_SALT = "cases.material-download"


# --- signed download links ------------------------------------------------------------------


def material_download_token(material: CaseMaterial, department_id: int) -> str:
    return signing.TimestampSigner(salt=DOWNLOAD_SALT).sign_object(
        {"m": material.pk, "d": department_id}
    )


def material_from_token(token: str) -> CaseMaterial:
    try:
        data = signing.TimestampSigner(salt=DOWNLOAD_SALT).unsign_object(
            token, max_age=settings.CASES_DOWNLOAD_LINK_SECONDS
        )
    except signing.BadSignature as exc:  # includes SignatureExpired
        raise Http404 from exc
    material = (
        CaseMaterial.objects.select_related("case")
        .filter(pk=data.get("m"), case__department_id=data.get("d"))
        .first()
    )
    if material is None or not material.file:
        raise Http404
    return material


def file_response(material: CaseMaterial) -> FileResponse:
    response = FileResponse(
        uploads.open_stored(material.file.name),
        as_attachment=True,
        filename=material.original_name or f"material-{material.pk}",
        content_type=material.content_type or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response


# --- output ---------------------------------------------------------------------------------


class CaseOutput(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display")
    implementation_code = serializers.CharField(source="item_version.implementation_code")
    basic_code = serializers.CharField(source="item_version.basic_code")
    item_name = serializers.CharField(source="item_version.name")
    item_version = serializers.IntegerField(source="item_version.version")
    sla = serializers.SerializerMethodField()
    deadline_provisional = serializers.SerializerMethodField(
        help_text="true：承诺办结日期所在年度的国务院放假安排尚未发布，暂按法定节假日推算，"
        "发布后自动重算"
    )

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "status",
            "status_label",
            "implementation_code",
            "basic_code",
            "item_name",
            "item_version",
            "kind",
            "channel",
            "applicant_name",
            "received_at",
            "accepted_at",
            "deemed_accepted",
            "deadline",
            "deadline_provisional",
            "decision",
            "decided_at",
            "completed_at",
            "delivered_at",
            "sla",
        ]

    def get_deadline_provisional(self, case: Case) -> bool:
        return selectors.is_deadline_provisional(case)

    def get_sla(self, case: Case) -> dict[str, Any] | None:
        figures = selectors.sla_figures(case)
        if figures is None:
            return None
        return {
            "days_used": figures.days_used,
            "days_left": figures.days_left,
            "level": figures.level,
            "paused": figures.paused,
            "running": figures.running,
            "on_time": figures.on_time,
        }


class MaterialOutput(serializers.ModelSerializer):
    download_url = serializers.SerializerMethodField()

    class Meta:
        model = CaseMaterial
        fields = [
            "id",
            "slot_key",
            "name",
            "source",
            "status",
            "defect_reason",
            "content_type",
            "size",
            "sha256",
            "licence_identifier",
            "shared_source",
            "copies",
            "download_url",
        ]

    def get_download_url(self, material: CaseMaterial) -> str | None:
        if not material.file:
            return None
        token = material_download_token(material, material.case.department_id)
        return reverse(
            "api:cases-material-download", kwargs={"token": token}, request=self.context["request"]
        )


class EventOutput(serializers.ModelSerializer):
    class Meta:
        model = CaseEvent
        fields = [
            "action",
            "from_status",
            "to_status",
            "actor_kind",
            "actor_label",
            "note",
            "created_at",
        ]


class CaseDetailOutput(CaseOutput):
    form = serializers.SerializerMethodField(
        help_text="申请表；身份证号码、手机号码等个人信息仅在客户端持有 cases:pii 权限时返回原文"
    )
    enterprise_uscc = serializers.CharField(source="enterprise.uscc", default=None, allow_null=True)
    materials = serializers.SerializerMethodField()
    events = serializers.SerializerMethodField()

    class Meta(CaseOutput.Meta):
        fields = [
            *CaseOutput.Meta.fields,
            "enterprise_uscc",
            "form",
            "promised_days",
            "extension_days",
            "paused_days",
            "decision_reason",
            "result_data",
            "materials",
            "events",
        ]

    def get_form(self, case: Case) -> dict[str, Any]:
        if self.context.get("personal_data"):
            return personal.full_form(case)
        return personal.masked_form(case)

    def get_materials(self, case: Case) -> list[dict[str, Any]]:
        materials = selectors.current_materials(case).select_related("case")
        return MaterialOutput(materials, many=True, context=self.context).data

    def get_events(self, case: Case) -> list[dict[str, Any]]:
        return EventOutput(selectors.case_timeline(case, public_only=False), many=True).data


# --- list and detail ------------------------------------------------------------------------


class CaseListFilter(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s, CaseStatus(s).label) for s in CaseStatus.values if s in DEPARTMENT_STATES],
        required=False,
    )
    item = serializers.CharField(required=False, max_length=50, help_text="实施编码或基本编码")
    deadline_before = serializers.DateTimeField(required=False, help_text="承诺办结日期不晚于")
    deadline_after = serializers.DateTimeField(required=False, help_text="承诺办结日期不早于")


@extend_schema(tags=["cases"], summary="本部门办件列表（受理后）", parameters=[CaseListFilter])
class CaseListApi(generics.ListAPIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "cases:read"}
    serializer_class = CaseOutput
    filter_backends: list = []
    pagination_class = type(
        "CasePagination", (DefaultCursorPagination,), {"ordering": ("-created_at", "-id")}
    )

    def get_queryset(self):  # type: ignore[no-untyped-def]
        department = get_client_department(self.request)
        # A plain dict, not the QueryDict: DRF reads a blank value in a QueryDict as "not
        # given", so ``?item=`` would pass while the schema says it may not be empty.
        filters = CaseListFilter(data=self.request.query_params.dict())
        filters.is_valid(raise_exception=True)
        data = filters.validated_data
        return selectors.list_cases_for_department(
            department.pk,
            status=data.get("status", ""),
            item_code=data.get("item", ""),
            deadline_before=data.get("deadline_before"),
            deadline_after=data.get("deadline_after"),
        )


@extend_schema(tags=["cases"], summary="办件详情（含材料下载链接与环节）")
class CaseDetailApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "cases:read"}

    @extend_schema(responses=CaseDetailOutput)
    def get(self, request: Request, case_id: int) -> Response:
        department = get_client_department(request)
        case = selectors.get_case_for_department(department_id=department.pk, case_id=case_id)
        released = _release_personal_data(request, case)
        context = {"request": request, "personal_data": released}
        return Response(CaseDetailOutput(case, context=context).data)


def _release_personal_data(request: Request, case: Case) -> bool:
    """Whether the client gets the form's personal fields in clear: only with the separate
    ``cases:pii`` scope (on the token and still allowed on the client), and every release is
    an audit event (which client, which case, which fields)."""
    client = request_api_client(request)
    token = request.auth
    if client is None or not isinstance(token, AccessToken):
        return False
    if not (token.allow_scopes([ApiScope.CASES_PII]) and ApiScope.CASES_PII in client.scopes):
        return False
    fields = sorted(
        set(personal.personal_fields(case.item_version)) & set(personal.full_form(case))
    )
    if fields:
        with transaction.atomic():
            record_audit_event(
                actor=None,
                action="cases.form_personal_released",
                obj=case,
                data={"api_client": client.pk, "number": case.number, "fields": fields},
            )
    return True


@extend_schema(
    tags=["cases"],
    summary="下载材料（签名链接，限时有效）",
    responses={200: OpenApiResponse(description="file"), 404: None},
)
class MaterialDownloadApi(APIView):
    # The signed, expiring token is the credential; it is only handed out in the detail
    # response to the case's own department.
    permission_classes = [AllowAny]
    authentication_classes: list = []

    def get(self, request: Request, token: str) -> FileResponse:
        return file_response(material_from_token(token))


# --- transitions ----------------------------------------------------------------------------


@extend_schema(parameters=[idempotency.OPENAPI_PARAMETER])
class _TransitionApi(idempotency.IdempotentPostMixin, APIView):
    # Idempotency-Key: a repeated answer has no second effect (issue 6, docs/handoffs.md).
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"POST": "cases:write"}

    def _scoped(self, request: Request, case_id: int) -> tuple[Case, CaseActor]:
        client = request_api_client(request)
        assert client is not None
        case = selectors.get_case_for_department(
            department_id=client.department_id, case_id=case_id
        )
        return case, CaseActor.of_client(client)

    def _done(self, request: Request, case_id: int) -> Response:
        department = get_client_department(request)
        case = selectors.get_case_for_department(department_id=department.pk, case_id=case_id)
        return Response(CaseOutput(case).data)


class NoteInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


@extend_schema(tags=["cases"], summary="开始审查", request=NoteInput, responses=CaseOutput)
class CaseReviewApi(_TransitionApi):
    def post(self, request: Request, case_id: int) -> Response:
        data = _valid(NoteInput, request)
        case, actor = self._scoped(request, case_id)
        services.start_review(case_id=case.pk, actor=actor, note=data["note"])
        return self._done(request, case_id)


class DecideInput(serializers.Serializer):
    decision = serializers.ChoiceField(choices=Decision.choices)
    reason = serializers.CharField(required=False, allow_blank=True, max_length=4000, default="")
    result = serializers.DictField(required=False, default=dict)
    complete = serializers.BooleanField(required=False, default=False)


@extend_schema(
    tags=["cases"], summary="作出决定（可同时办结）", request=DecideInput, responses=CaseOutput
)
class CaseDecideApi(_TransitionApi):
    def post(self, request: Request, case_id: int) -> Response:
        data = _valid(DecideInput, request)
        case, actor = self._scoped(request, case_id)
        services.decide_case(
            case_id=case.pk,
            actor=actor,
            decision=data["decision"],
            reason=data["reason"],
            result_data=data["result"],
            complete=data["complete"],
        )
        return self._done(request, case_id)


@extend_schema(tags=["cases"], summary="办结", request=NoteInput, responses=CaseOutput)
class CaseCompleteApi(_TransitionApi):
    def post(self, request: Request, case_id: int) -> Response:
        data = _valid(NoteInput, request)
        case, actor = self._scoped(request, case_id)
        services.complete_case(case_id=case.pk, actor=actor, note=data["note"])
        return self._done(request, case_id)


class SuspendInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=PauseKind.choices)
    reason = serializers.CharField(max_length=300)


@extend_schema(
    tags=["cases"], summary="启动特别程序（暂停计时）", request=SuspendInput, responses=CaseOutput
)
class CaseSuspendApi(_TransitionApi):
    def post(self, request: Request, case_id: int) -> Response:
        data = _valid(SuspendInput, request)
        case, actor = self._scoped(request, case_id)
        services.suspend_case(
            case_id=case.pk, actor=actor, kind=data["kind"], reason=data["reason"]
        )
        return self._done(request, case_id)


class ResumeInput(serializers.Serializer):
    result = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


@extend_schema(
    tags=["cases"], summary="特别程序结束（恢复计时）", request=ResumeInput, responses=CaseOutput
)
class CaseResumeApi(_TransitionApi):
    def post(self, request: Request, case_id: int) -> Response:
        data = _valid(ResumeInput, request)
        case, actor = self._scoped(request, case_id)
        services.resume_case(case_id=case.pk, actor=actor, result=data["result"])
        return self._done(request, case_id)


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)
