"""Department systems' API: pull inbox, acknowledgement by id, answers (OAuth2 scope ``handoffs``).

Every object is looked up scoped to the client's department (STYLE.md R1): another department's
handoff is a 404, never a 403 that would confirm it exists.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.handoffs import idempotency
from apps.handoffs.constants import AnswerKind
from apps.handoffs.selectors import get_handoff_for_department, list_inbox_for_department
from apps.handoffs.services import (
    acknowledge_handoff,
    acknowledge_handoffs,
    build_envelope,
    record_handoff_answer,
)
from apps.identity.constants import ApiScope
from apps.identity.permissions import DepartmentClientPermission, get_client_department

INBOX_MAX = 200


class InboxQuery(serializers.Serializer):
    after = serializers.IntegerField(min_value=0, required=False, default=0)
    limit = serializers.IntegerField(min_value=1, max_value=INBOX_MAX, required=False, default=50)


class HandoffStateOutput(serializers.Serializer):
    handoff_id = serializers.IntegerField(source="pk")
    state = serializers.CharField()
    acknowledged_at = serializers.DateTimeField(allow_null=True)


class AnswerInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AnswerKind.choices)
    idempotency_key = serializers.RegexField(r"^[A-Za-z0-9._:-]{8,128}$")
    data = serializers.JSONField(required=False, default=dict)

    def validate_data(self, value: Any) -> Any:
        if not isinstance(value, dict):
            raise serializers.ValidationError("data 必须是 JSON 对象")
        return value


class AnswerOutput(serializers.Serializer):
    answer_id = serializers.IntegerField(source="pk")
    handoff_id = serializers.IntegerField()
    kind = serializers.CharField()
    idempotency_key = serializers.CharField()
    applied = serializers.BooleanField(source="handler_applied")
    created_at = serializers.DateTimeField()


@extend_schema(
    tags=["handoffs"],
    summary="拉取本部门待签收的交接（收件箱）",
    parameters=[
        OpenApiParameter("after", int, description="只返回编号大于该值的交接（翻页）"),
        OpenApiParameter("limit", int, description=f"每页条数，最大 {INBOX_MAX}"),
    ],
    responses={200: dict},
)
class HandoffInboxApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": ApiScope.HANDOFFS}

    def get(self, request: Request) -> Response:
        query = InboxQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        handoffs = list_inbox_for_department(
            get_client_department(request),
            after_id=query.validated_data["after"],
            limit=query.validated_data["limit"],
        )
        return Response(
            {
                "results": [build_envelope(handoff) for handoff in handoffs],
                "next_after": handoffs[-1].pk if handoffs else query.validated_data["after"],
            }
        )


@extend_schema(
    tags=["handoffs"],
    summary="确认已接收交接（按编号签收，可重复调用）",
    request=None,
    responses={200: HandoffStateOutput},
)
class HandoffAckApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"POST": ApiScope.HANDOFFS}

    def post(self, request: Request, handoff_id: int) -> Response:
        department = get_client_department(request)
        handoff = get_handoff_for_department(department, handoff_id)
        handoff = acknowledge_handoff(handoff_id=handoff.pk, department=department)
        return Response(HandoffStateOutput(handoff).data)


class BatchAckInput(serializers.Serializer):
    handoff_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1), min_length=1, max_length=INBOX_MAX
    )


class BatchAckOutput(serializers.Serializer):
    acknowledged = serializers.ListField(child=serializers.IntegerField())
    not_found = serializers.ListField(child=serializers.IntegerField())


@extend_schema(
    tags=["handoffs"],
    summary="批量确认已接收交接（一次最多 200 条，可重复调用）",
    request=BatchAckInput,
    responses={200: BatchAckOutput},
)
class HandoffBatchAckApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"POST": ApiScope.HANDOFFS}

    def post(self, request: Request) -> Response:
        payload = BatchAckInput(data=request.data)
        payload.is_valid(raise_exception=True)
        acknowledged, not_found = acknowledge_handoffs(
            handoff_ids=payload.validated_data["handoff_ids"],
            department=get_client_department(request),
        )
        return Response({"acknowledged": acknowledged, "not_found": not_found})


@extend_schema(
    tags=["handoffs"],
    summary="部门答复（已接收 / 办理决定），同一幂等键只生效一次",
    description=(
        "幂等键放在请求体 idempotency_key 或请求头 Idempotency-Key（两者都给时须一致）。"
        "同一键重复答复不再生效，返回首次的答复（200，Idempotent-Replayed: true）；"
        "同一键用于不同答复返回 422 idempotency_key_reused。"
    ),
    parameters=[idempotency.OPENAPI_PARAMETER],
    request=AnswerInput,
    responses={201: AnswerOutput, 200: AnswerOutput},
)
class HandoffAnswerApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"POST": ApiScope.HANDOFFS}

    def post(self, request: Request, handoff_id: int) -> Response:
        department = get_client_department(request)
        handoff = get_handoff_for_department(department, handoff_id)
        data = request.data.copy() if hasattr(request.data, "copy") else dict(request.data)
        header_key = request.headers.get(idempotency.HEADER)
        if header_key is not None:
            if data.get("idempotency_key", header_key) != header_key:
                raise serializers.ValidationError(
                    {"idempotency_key": [_("请求头与请求体中的幂等键不一致")]}
                )
            data["idempotency_key"] = header_key
        payload = AnswerInput(data=data)
        payload.is_valid(raise_exception=True)
        answer, created = record_handoff_answer(
            handoff_id=handoff.pk, department=department, **payload.validated_data
        )
        response = Response(
            AnswerOutput(answer).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )
        if not created:
            response[idempotency.REPLAYED_HEADER] = "true"
        return response
