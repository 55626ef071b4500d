"""The department-client permission: token scope and the client's granted scopes."""

import pytest

from rest_framework.response import Response
from rest_framework.test import APIClient, APIRequestFactory
from rest_framework.views import APIView

from apps.identity.permissions import DepartmentClientPermission, get_client_department
from tests.identity.factories import ApiClientFactory, issue_token

pytestmark = pytest.mark.django_db


class _ProbeApi(APIView):
    permission_classes = [DepartmentClientPermission]
    required_scopes = {"GET": "cases:read", "POST": "cases:write"}

    def get(self, request):
        return Response({"department": get_client_department(request).uscc})

    def post(self, request):
        return Response({"ok": True})


def _call(method: str, token: str | None):
    factory = APIRequestFactory()
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    request = getattr(factory, method)("/probe/", **headers)
    return _ProbeApi.as_view()(request)


def test_client_with_scope_sees_its_department(dept_client: APIClient, department) -> None:
    token = dept_client._credentials["HTTP_AUTHORIZATION"].split()[1]
    response = _call("get", token)
    assert response.status_code == 200
    assert response.data == {"department": department.uscc}


@pytest.mark.parametrize(
    ("_case", "granted", "token_scope", "method", "status"),
    [
        ("no_token", "cases:read", None, "get", 401),
        ("token_lacks_scope", "cases:read cases:write", "cases:read", "post", 403),
        ("client_no_longer_granted", "cases:read", "cases:read cases:write", "post", 403),
        ("read_ok", "cases:read", "cases:read", "get", 200),
    ],
)
def test_scope_matrix(
    _case: str, granted: str, token_scope: str | None, method: str, status: int
) -> None:
    api_client = ApiClientFactory(allowed_scopes=granted)
    token = issue_token(api_client, token_scope).token if token_scope else None
    assert _call(method, token).status_code == status


def test_inactive_client_refused() -> None:
    # A deactivated client's tokens stop being valid at all (RFC 6750 invalid_token → 401).
    api_client = ApiClientFactory(is_active=False)
    token = issue_token(api_client, "cases:read").token
    assert _call("get", token).status_code == 401
