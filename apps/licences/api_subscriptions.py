"""Status-change subscriptions over the department API (``/api/v1/licences/subscription/``).

A department system subscribes its department to the status changes (revocation, suspension,
expiry, supersession, …) of licences of some types — or of every type — that other departments
issued; they reach it through the handoff outbox (signed push or inbox pull, retries,
idempotency; DOMAIN.md §3.7 point 4). One subscription per department: ``GET`` reads it,
``POST`` sets it (``Idempotency-Key`` like every POST of the API), ``DELETE`` ends it.

Receiving status changes is part of using licences (the payload carries no holder data), so the
subscription needs ``licences:read``, not the issuing scope ``licences:write``.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from apps.core.i18n import join_list
from apps.handoffs import idempotency
from apps.identity.permissions import DepartmentClientPermission, request_api_client
from apps.licences import services
from apps.licences.models import LicenceType, StatusSubscription

MAX_TYPES = 200


class SubscriptionOutput(serializers.Serializer):
    active = serializers.BooleanField(help_text="是否订阅中")
    licence_types = serializers.ListField(
        child=serializers.CharField(), help_text="订阅的证照类型代码；空表示全部类型"
    )
    updated_at = serializers.DateTimeField(allow_null=True)


class SubscriptionInput(serializers.Serializer):
    licence_types = serializers.ListField(
        child=serializers.CharField(max_length=21),
        allow_empty=True,
        max_length=MAX_TYPES,
        help_text="证照类型代码（证照目录）；空列表表示订阅全部类型",
    )

    def validate_licence_types(self, value: list[str]) -> list[str]:
        codes = sorted({code.strip() for code in value})
        known = set(LicenceType.objects.filter(code__in=codes).values_list("code", flat=True))
        unknown = [code for code in codes if code not in known]
        if unknown:
            raise serializers.ValidationError(
                _("证照目录中没有这些证照类型代码：%(codes)s") % {"codes": join_list(unknown[:10])}
            )
        return codes


def _output(sub: StatusSubscription | None) -> dict[str, Any]:
    if sub is None:
        return {"active": False, "licence_types": [], "updated_at": None}
    return SubscriptionOutput(
        {
            "active": sub.is_active,
            "licence_types": sub.licence_types if sub.is_active else [],
            "updated_at": sub.updated_at,
        }
    ).data


class SubscriptionApi(idempotency.IdempotentPostMixin, APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "licences:read", "POST": "licences:read", "DELETE": "licences:read"}

    def _client(self, request: Request) -> Any:
        client = request_api_client(request)
        assert client is not None
        return client

    @extend_schema(
        tags=["licences"], summary="本部门的证照状态变更订阅", responses=SubscriptionOutput
    )
    def get(self, request: Request) -> Response:
        client = self._client(request)
        sub = StatusSubscription.objects.filter(department_id=client.department_id).first()
        return Response(_output(sub))

    @extend_schema(
        tags=["licences"],
        summary="订阅（或修改订阅）证照状态变更",
        request=SubscriptionInput,
        responses=SubscriptionOutput,
        parameters=[idempotency.OPENAPI_PARAMETER],
    )
    def post(self, request: Request) -> Response:
        serializer = SubscriptionInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        client = self._client(request)
        sub = services.subscribe_status_changes(
            department=client.department,
            licence_types=serializer.validated_data["licence_types"],
            client_id=client.pk,
        )
        return Response(_output(sub))

    @extend_schema(
        tags=["licences"],
        summary="取消证照状态变更订阅（重复取消无副作用）",
        responses={204: OpenApiResponse(description="已取消")},
    )
    def delete(self, request: Request) -> Response:
        client = self._client(request)
        services.unsubscribe_status_changes(department=client.department, client_id=client.pk)
        return Response(status=status.HTTP_204_NO_CONTENT)
