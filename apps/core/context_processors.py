from typing import Any

from django.http import HttpRequest

ELDER_COOKIE = "gp_elder"


def portal(request: HttpRequest) -> dict[str, Any]:
    """Layout switches every page needs: the elder-friendly mode (长辈模式)."""
    return {"elder_mode": request.COOKIES.get(ELDER_COOKIE) == "1"}
