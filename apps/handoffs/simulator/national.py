"""The simulator playing the national 好差评 system (``--national-reviews``).

The portal pushes every rating (event ``reviews.rating``) and every rectification result
(``reviews.rectification``) to the national system through the handoff outbox; the envelope
is signed and verified exactly as for a department. In this role the simulator also checks the
payload against the national interface's field table (DOMAIN.md §2.3): the code lists, the
mandatory fields, and that no ID or mobile number travels in a free-text field (the portal
masks them before storing). A payload that fails is refused with 400 and the national error
body (the portal dead-letters it: bad data does not heal by retrying); one that passes is stored
in the ``national`` table of the record and acknowledged with the national response body, and with
``--answer received`` a receipt carrying the national fields is posted back through the
handoff answer API.

The national response and receipt shape (``code``/``msg``/``data`` with ``evaluateId``,
``receiveStatus``, ``receiveTime``) follows the provincial vendor implementations ◐; the
national specification itself was not available.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from typing import Any

RATING_EVENT = "reviews.rating"
RESULT_EVENT = "reviews.rectification"

# Code lists of the national interface (DOMAIN.md §2.3). ``pf`` 7 is 短信 or, in the Zhejiang
# variant, 系统默认评价: both are valid codes here.
RATING_CODES: dict[str, frozenset[str]] = {
    "pf": frozenset("1234567"),
    "satisfaction": frozenset("12345"),
    "assessNumber": frozenset("12"),
    "appStatus": frozenset("123"),
    "anonymityFlag": frozenset("12"),
    "userProp": frozenset("12"),
    "proStatus": frozenset("123"),
    "type": frozenset("123"),
}
RATING_REQUIRED = ("evaluateId", "projectNo", "proDepart", "proDepartId", "areaCode", "evalTime")
RESULT_REQUIRED = ("evaluateId", "rectifyStatus")
TIME_FORMAT = re.compile(r"^\d{14}$")
# The free-text fields (code fields such as proDepartId hold an 18-character USCC, which looks
# like an ID number).
TEXT_FIELDS = ("writingEvaluation", "taskName", "proDepart", "rectifyMeasure", "rectifyResult")
# 18-digit resident ID (last character may be X) or a mainland mobile number, not inside a
# longer run of digits.
PERSONAL_NUMBER = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")


def check(envelope: Mapping[str, Any]) -> list[str]:
    """The national system's field check: a list of errors, empty when the payload is valid."""
    event = envelope.get("event")
    payload = envelope.get("payload")
    if not isinstance(payload, Mapping):
        return ["payload: not an object"]
    # The privacy refusal first: the portal keeps only the start of an error body.
    errors = (
        ["personal number in clear"]
        if any(PERSONAL_NUMBER.search(str(payload.get(name) or "")) for name in TEXT_FIELDS)
        else []
    )
    if event == RATING_EVENT:
        for name, codes in RATING_CODES.items():
            if str(payload.get(name, "")) not in codes:
                errors.append(f"{name}: not in the code list")
        required = RATING_REQUIRED
        if not TIME_FORMAT.match(str(payload.get("evalTime", ""))):
            errors.append("evalTime: expected yyyyMMddHHmmss")
    elif event == RESULT_EVENT:
        required = RESULT_REQUIRED
    else:
        return [f"event: {event!r} is not a 好差评 event"]
    errors.extend(f"{name}: required" for name in required if not payload.get(name))
    return errors


def stamp(moment: float | None = None) -> str:
    return time.strftime("%Y%m%d%H%M%S", time.localtime(moment))


def reply(envelope: Mapping[str, Any], *, duplicate: bool) -> dict[str, Any]:
    """The national acknowledgement body of a stored push (also for a repeated one)."""
    return {
        "code": "200",
        "msg": "接收成功",
        "data": {
            "evaluateId": envelope["payload"].get("evaluateId", ""),
            "receiveStatus": "1",
            "duplicate": duplicate,
        },
    }


def refusal(errors: list[str]) -> dict[str, Any]:
    return {"code": "400", "msg": "数据校验不通过", "errors": errors}


def receipt(envelope: Mapping[str, Any]) -> dict[str, Any]:
    """The data of the ``received`` answer posted back to the portal."""
    payload = envelope["payload"]
    data = {
        "evaluateId": payload.get("evaluateId", ""),
        "receiveStatus": "1",
        "receiveTime": stamp(),
        "dataType": "evaluation" if envelope.get("event") == RATING_EVENT else "rectification",
    }
    if envelope.get("event") == RATING_EVENT:
        data["assessNumber"] = payload.get("assessNumber", "")
    return data
