"""OpenAPI generation (drf-spectacular) that tells the truth about errors (issue 15 §2).

drf-spectacular documents only the success response. Every endpoint also answers in the API
error format of ``apps.core.drf`` (400 for a bad parameter or body, 401/403 for a missing or
insufficient credential, 404 for an unknown object, 409 for a refused state change), and a
client generated from the schema, or a schemathesis run, must find those answers documented.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from rest_framework import serializers
from rest_framework.permissions import AllowAny


class ErrorOutput(serializers.Serializer):
    """``{"code": "invalid", "detail": "请求参数有误", "errors": {"field": ["..."]}}``."""

    code = serializers.CharField(help_text="英文错误代码，如 invalid、not_found、forbidden")
    detail = serializers.CharField(help_text="错误说明（中文）")
    errors = serializers.DictField(
        required=False, help_text="字段级校验错误：字段名 → 错误列表（可嵌套）"
    )


_DESCRIPTIONS = {
    "400": "请求参数或请求体有误",
    "401": "缺少或无效的凭证",
    "403": "无权访问（令牌权限范围不足或身份不符）",
    "404": "对象不存在或不可见",
    "409": "当前状态不允许该操作",
    "429": "请求过于频繁，请稍后再试",
}


class GovportalAutoSchema(AutoSchema):
    def _error_codes(self) -> list[str]:
        codes = ["400"]  # every query parameter and body is validated
        view = self.view
        if getattr(view, "get_authenticators", None) and view.get_authenticators():
            # A credential that is sent is checked even on public endpoints.
            codes.append("401")
        permissions = getattr(view, "permission_classes", [])
        if any(permission is not AllowAny for permission in permissions):
            codes += ["401", "403"]
        if "{" in self.path:
            codes.append("404")
        if self.method in ("POST", "PUT", "PATCH", "DELETE") and "{" in self.path:
            codes.append("409")
        if getattr(view, "throttle_classes", None):
            codes.append("429")
        return sorted(set(codes))

    def _get_response_bodies(self, direction: str = "response") -> dict[str, Any]:
        responses = super()._get_response_bodies(direction)  # type: ignore[arg-type]
        for code in self._error_codes():
            if code not in responses:
                response = self._get_response_for_code(ErrorOutput, code, direction=direction)
                response["description"] = _DESCRIPTIONS[code]
                responses[code] = response
        return responses
