"""The project's URLs plus one view that fails, to see the 500 page's headers (test_csp.py)."""

from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def broken_view(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("deliberate failure for the 500 page")


urlpatterns = [
    path("__broken__/", broken_view),
    path("", include("govportal.urls")),
]
