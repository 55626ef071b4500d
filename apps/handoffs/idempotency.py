"""``Idempotency-Key`` for departments' answers through the case API (issue 6, Deliver 2).

A department system that repeats a request (its own retry after a time-out, a restarted job)
sends the same ``Idempotency-Key`` header. The first request with a key reserves it (a row of
``IdempotentRequest``, unique per department and key) and, when it succeeds (2xx), stores its
status and body. Then:

* a repeat with the same key and the same request (method, path, body) has no second effect and
  gets the stored status and body again, with ``Idempotent-Replayed: true``;
* the same key with a different request is refused: 422 ``idempotency_key_reused``;
* a repeat arriving while the first is still running waits for it (up to
  ``WAIT_SECONDS``) and then gets the stored result; if the first is still running after that,
  409 ``idempotency_request_in_progress`` (retry later with the same key). Never a 500.

A request that fails (4xx, 5xx) releases its key, so the department may correct the cause and
send the same request again with the same key. A reservation whose request died (the process was
killed) is taken over after ``STALE_SECONDS``; if that request had committed its change, the
repeat meets the case's own refusal (409 ``illegal_transition``): the change is never made twice.
The header is optional; without it a request is simply executed.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from datetime import timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from apps.core.exceptions import DomainError
from apps.core.models import Department
from apps.handoffs.models import IdempotentRequest
from apps.identity.permissions import get_client_department

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
KEY_RE = re.compile(r"^[A-Za-z0-9._:-]{8,128}$")
WAIT_SECONDS = 10.0
POLL_SECONDS = 0.05
STALE_SECONDS = 120

OPENAPI_PARAMETER = OpenApiParameter(
    HEADER,
    str,
    OpenApiParameter.HEADER,
    required=False,
    description=(
        "幂等键（8–128 位字母、数字或 . _ : -，部门内唯一）。同一键重复请求不会再次生效，"
        "返回首次的结果（响应头 Idempotent-Replayed: true）；同一键用于不同请求返回 422。"
    ),
)


class IdempotencyKeyReused(DomainError):
    status_code = 422


class IdempotencyInProgress(DomainError):
    status_code = 409


class _Replay(Exception):
    def __init__(self, record: IdempotentRequest) -> None:
        super().__init__(record.key)
        self.record = record


def key_reused_error() -> IdempotencyKeyReused:
    return IdempotencyKeyReused(_("该幂等键已用于另一项不同的请求"), code="idempotency_key_reused")


def valid_key(value: str) -> str:
    if not KEY_RE.match(value):
        raise serializers.ValidationError({HEADER: [_("幂等键须为 8–128 位字母、数字或 . _ : -")]})
    return value


def fingerprint(request: Request) -> str:
    """SHA-256 of method, path and the canonical JSON of the parsed body."""
    data = request.data
    if hasattr(data, "dict"):
        data = data.dict()
    body = json.dumps(data, sort_keys=True, ensure_ascii=False, cls=DjangoJSONEncoder)
    text = f"{request.method} {request.path}\n{body}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def reserve(
    *, department: Department, key: str, digest: str, method: str, path: str
) -> IdempotentRequest:
    """Reserve ``key`` for this request, or raise: ``_Replay`` (a completed repeat),
    ``IdempotencyKeyReused`` (another request), ``IdempotencyInProgress`` (still running)."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        try:
            with transaction.atomic():
                return IdempotentRequest.objects.create(
                    department=department, key=key, fingerprint=digest, method=method, path=path
                )
        except IntegrityError:
            pass  # the key exists: look at it below
        record = IdempotentRequest.objects.filter(department=department, key=key).first()
        if record is None:
            continue  # released by a failed first request in the meantime: try again
        if record.fingerprint != digest:
            raise key_reused_error()
        if record.state == IdempotentRequest.State.COMPLETED:
            raise _Replay(record)
        now = timezone.now()
        if record.updated_at < now - timedelta(seconds=STALE_SECONDS):
            # The request holding it died (process killed); take it over exactly once.
            taken = IdempotentRequest.objects.filter(
                pk=record.pk,
                state=IdempotentRequest.State.IN_PROGRESS,
                updated_at=record.updated_at,
            ).update(updated_at=now)
            if taken:
                record.updated_at = now
                return record
            continue
        if time.monotonic() > deadline:
            raise IdempotencyInProgress(
                _("使用该幂等键的请求仍在处理中，请稍后用同一幂等键重试"),
                code="idempotency_request_in_progress",
            )
        time.sleep(POLL_SECONDS)


def complete(record: IdempotentRequest, *, status_code: int, body: Any) -> None:
    record.state = IdempotentRequest.State.COMPLETED
    record.response_status = status_code
    record.response_body = json.loads(json.dumps(body, cls=DjangoJSONEncoder))
    record.save(update_fields=["state", "response_status", "response_body", "updated_at"])


def release(record: IdempotentRequest) -> None:
    IdempotentRequest.objects.filter(
        pk=record.pk, state=IdempotentRequest.State.IN_PROGRESS
    ).delete()


def replay_response(record: IdempotentRequest) -> Response:
    response = Response(record.response_body, status=record.response_status)
    response[REPLAYED_HEADER] = "true"
    return response


# No docstring on purpose: drf-spectacular would show it as every view's description.
class IdempotentPostMixin:
    # For DRF views of department clients: honour ``Idempotency-Key`` on POST. Put it before
    # ``APIView`` in the bases. Authentication and permissions run first (``initial``), so the
    # key is scoped to the authenticated client's department.

    _idempotency_record: IdempotentRequest | None = None

    def initial(self, request: Request, *args: Any, **kwargs: Any) -> None:
        super().initial(request, *args, **kwargs)  # type: ignore[misc]
        self._idempotency_record = None
        key = request.headers.get(HEADER)
        if request.method != "POST" or key is None:
            return
        self._idempotency_record = reserve(
            department=get_client_department(request),
            key=valid_key(key),
            digest=fingerprint(request),
            method=request.method,
            path=request.path,
        )

    def handle_exception(self, exc: Exception) -> Response:
        if isinstance(exc, _Replay):
            return replay_response(exc.record)
        return super().handle_exception(exc)  # type: ignore[misc]

    def finalize_response(
        self, request: Request, response: Response, *args: Any, **kwargs: Any
    ) -> Response:
        response = super().finalize_response(request, response, *args, **kwargs)  # type: ignore[misc]
        record, self._idempotency_record = self._idempotency_record, None
        if record is not None:
            if 200 <= response.status_code < 300:
                complete(record, status_code=response.status_code, body=response.data)
            else:
                release(record)
        return response
