"""REST API of the licences app (ARCHITECTURE.md contract: ``/api/v1/licences/``).

- department systems (OAuth2 client credentials): issue, read, change/renew and status actions
  for the licences **their department issued**; ``licences:write`` to write, ``licences:read``
  to read; ``Idempotency-Key`` on every POST like the case API;
- anyone: ``GET verify/?token=…`` answers valid / invalid for a QR token, ``POST verify/`` for
  an uploaded file (a licence's PDF or a 加注件; rate-limited, logged without the verifier's
  data);
- 加注件 and status-change subscriptions: ``api_copies`` and ``api_subscriptions``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import Http404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.throttling import SimpleRateThrottle
from rest_framework.views import APIView

from apps.core.exceptions import DomainError
from apps.handoffs import idempotency
from apps.identity.models import Enterprise, Person
from apps.identity.permissions import DepartmentClientPermission, request_api_client
from apps.identity.pii import id_number_index
from apps.licences import selectors, services
from apps.licences.constants import MANUAL_ACTIONS, LicenceAction
from apps.licences.models import Licence


class LicenceOutput(serializers.ModelSerializer):
    type_code = serializers.CharField(source="licence_type.code")
    holder_code = serializers.CharField(source="masked_holder_code")
    issuer = serializers.CharField(source="issuer.name")
    predecessor = serializers.CharField(source="predecessor.identifier", default=None)

    class Meta:
        model = Licence
        fields = [
            "identifier",
            "name",
            "type_code",
            "number",
            "version",
            "status",
            "issuer",
            "issuer_code",
            "holder_kind",
            "holder_code_type",
            "holder_name",
            "holder_code",
            "issued_on",
            "valid_from",
            "valid_until",
            "face_data",
            "predecessor",
            "status_changed_at",
        ]


def _valid(serializer_class: type[serializers.Serializer], request: Request) -> dict[str, Any]:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return dict(serializer.validated_data)


class _DepartmentApi(idempotency.IdempotentPostMixin, APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "licences:read", "POST": "licences:write"}

    def _actor(self, request: Request) -> services.LicenceActor:
        client = request_api_client(request)
        assert client is not None
        return services.LicenceActor.of_client(client)

    def _own(self, request: Request, identifier: str) -> Licence:
        actor = self._actor(request)
        assert actor.department is not None
        try:
            return selectors.get_licence_for_department(
                department=actor.department, identifier=identifier
            )
        except Http404:
            services.record_access_refused(actor=actor, identifier=identifier, channel="api")
            raise


class HolderInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=["person", "enterprise"])
    id_number = serializers.CharField(required=False, max_length=18)
    uscc = serializers.CharField(required=False, max_length=18)


class IssueInput(serializers.Serializer):
    type_code = serializers.CharField(max_length=21)
    holder = HolderInput()
    face_data = serializers.DictField()
    number = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    valid_from = serializers.DateField(required=False, default=None)
    valid_until = serializers.DateField(required=False, default=None)


def _holder_accounts(holder: dict[str, Any]) -> dict[str, Any]:
    if holder["kind"] == "person":
        person = (
            Person.objects.select_related("user")
            .filter(id_number_index=id_number_index(holder.get("id_number") or ""))
            .first()
        )
        if person is None:
            raise DomainError("持证人尚未在本平台实名注册", code="holder_unknown")
        return {"holder_user": person.user}
    enterprise = Enterprise.objects.filter(uscc=(holder.get("uscc") or "").upper()).first()
    if enterprise is None:
        raise DomainError("持证法人尚未在本平台登记", code="holder_unknown")
    return {"holder_enterprise": enterprise}


@extend_schema(
    tags=["licences"],
    summary="签发电子证照",
    request=IssueInput,
    responses={201: LicenceOutput},
    parameters=[idempotency.OPENAPI_PARAMETER],
)
class LicenceIssueApi(_DepartmentApi):
    def post(self, request: Request) -> Response:
        data = _valid(IssueInput, request)
        actor = self._actor(request)
        assert actor.department is not None
        licence = services.issue_licence(
            type_code=data["type_code"],
            issuer=actor.department,
            actor=actor,
            face_data=data["face_data"],
            number=data["number"],
            valid_from=data["valid_from"],
            valid_until=data["valid_until"],
            **_holder_accounts(data["holder"]),
        )
        return Response(LicenceOutput(licence).data, status=status.HTTP_201_CREATED)


@extend_schema(tags=["licences"], summary="读取本部门签发的电子证照", responses=LicenceOutput)
class LicenceDetailApi(_DepartmentApi):
    def get(self, request: Request, identifier: str) -> Response:
        return Response(LicenceOutput(self._own(request, identifier)).data)


class ChangeInput(serializers.Serializer):
    kind = serializers.ChoiceField(choices=[LicenceAction.CHANGE, LicenceAction.RENEW])
    reason = serializers.CharField(max_length=500)
    face_data = serializers.DictField(required=False, default=None)
    valid_until = serializers.DateField(required=False, default=None)


@extend_schema(
    tags=["licences"],
    summary="变更或延续（版本号加一）",
    request=ChangeInput,
    responses={201: LicenceOutput},
    parameters=[idempotency.OPENAPI_PARAMETER],
)
class LicenceChangeApi(_DepartmentApi):
    def post(self, request: Request, identifier: str) -> Response:
        data = _valid(ChangeInput, request)
        licence = self._own(request, identifier)
        new = services.change_licence(
            licence_id=licence.pk,
            actor=self._actor(request),
            kind=data["kind"],
            reason=data["reason"],
            face_data=data["face_data"],
            valid_until=data["valid_until"],
        )
        return Response(LicenceOutput(new).data, status=status.HTTP_201_CREATED)


class StatusInput(serializers.Serializer):
    action = serializers.ChoiceField(choices=[(a.value, a.label) for a in MANUAL_ACTIONS])
    reason = serializers.CharField(max_length=500)
    legal_basis = serializers.CharField(
        required=False, allow_blank=True, max_length=500, default=""
    )


@extend_schema(
    tags=["licences"],
    summary="注销、撤销、撤回、吊销、挂失冻结或解除",
    request=StatusInput,
    responses=LicenceOutput,
    parameters=[idempotency.OPENAPI_PARAMETER],
)
class LicenceStatusApi(_DepartmentApi):
    def post(self, request: Request, identifier: str) -> Response:
        data = _valid(StatusInput, request)
        licence = self._own(request, identifier)
        changed = services.change_licence_status(
            licence_id=licence.pk,
            actor=self._actor(request),
            action=data["action"],
            reason=data["reason"],
            legal_basis=data["legal_basis"],
        )
        return Response(LicenceOutput(changed).data)


# --- public verification --------------------------------------------------------------------


class VerifyThrottle(SimpleRateThrottle):
    """Per client address, kept only as a short-lived cache counter (never logged)."""

    scope = "licences_verify"

    def get_rate(self) -> str:
        return settings.LICENCE_VERIFY_API_RATE

    def get_cache_key(self, request: Request, view: Any) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class VerifyQuery(serializers.Serializer):
    """``?token=``: required; a missing or blank token is a 400, not an "invalid" answer."""

    token = serializers.CharField(max_length=200, help_text="二维码中的核验码")


MAX_UPLOAD = 5 * 1024 * 1024


class VerifyFileInput(serializers.Serializer):
    file = serializers.FileField(help_text="电子证照或加注件的 PDF 文件（不超过5MB）")

    def validate_file(self, value: Any) -> Any:
        if value.size > MAX_UPLOAD:
            raise serializers.ValidationError(_("文件过大（不超过5MB）"))
        return value


class LicenceVerifyApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []
    throttle_classes = [VerifyThrottle]
    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(
        tags=["licences"], summary="验真（核验码）", parameters=[VerifyQuery], responses=dict
    )
    def get(self, request: Request) -> Response:
        query = VerifyQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        answer = selectors.verify_token(query.validated_data["token"])
        services.record_verification(
            licence=answer.licence,
            channel="api",
            outcome="valid" if answer.is_valid else "invalid",
            reason=answer.reason,
        )
        return Response(answer.as_json())

    @extend_schema(
        tags=["licences"],
        summary="验真（上传电子证照或加注件文件）",
        request={"multipart/form-data": VerifyFileInput},
        responses=dict,
    )
    def post(self, request: Request) -> Response:
        serializer = VerifyFileInput(data=request.data)
        serializer.is_valid(raise_exception=True)
        answer = selectors.verify_file(serializer.validated_data["file"].read())
        services.record_verification(
            licence=answer.licence,
            channel="api_file",
            outcome="valid" if answer.is_valid else "invalid",
            reason=answer.reason,
        )
        return Response(answer.as_json())
