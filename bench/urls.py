"""The project's URLs plus a bare DRF endpoint, mounted only while the benchmarks run.

The bare endpoint is the yardstick: a trivial ``APIView`` returning a small constant JSON
through the same middleware, DRF renderer and exception handling as the real endpoints, so a
figure divided by the bare one is the cost of the feature itself, independent of how fast
this machine is.
"""

from __future__ import annotations

from typing import Any

from django.urls import path
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from govportal.urls import urlpatterns as project_urlpatterns


class BareApi(APIView):
    permission_classes = [AllowAny]
    authentication_classes: list[Any] = []

    def get(self, request: Request) -> Response:
        return Response({"status": "ok", "count": 0, "results": []})


urlpatterns = [path("bench/bare/", BareApi.as_view(), name="bench-bare"), *project_urlpatterns]
