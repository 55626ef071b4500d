"""The simulator playing the national e-licence sharing platform (``--national-licences``).

The portal pushes every status change of a licence (revocation, suspension, expiry,
supersession and the rest of DOMAIN.md §3.7; events ``licence.<status>``) through the handoff
outbox to its subscribers, the national sharing platform among them; the envelope is signed and
verified exactly as for a department. In this role the simulator also checks the licence status
payload (the exchange record, ``cd_operation`` U): the mandatory fields, the code lists of
statuses and actions, a GB/T 36904 identifier with a correct MOD 37,36 check character whose
type and issuer parts match the type and issuer fields, the successor of a superseded licence
(same licence, higher version), an ISO 8601 time, and that no holder data travels (no holder
field, no ID or mobile number in the free text). A payload that fails is refused with 400 and
the platform's error body (the portal dead-letters it); one that passes is stored once in the
``licence_status`` table of the record and acknowledged with the platform's response body.

The response shape (``code``/``msg``/``data``) follows the national 好差评 role (``national.py``);
the national sharing platform's own interface specification was not available.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

EVENT_PREFIX = "licence."
# DOMAIN.md §3.7 (apps.licences.constants.LicenceStatus / LicenceAction; the contract test
# checks these lists against them).
STATUSES = frozenset(
    {
        "valid",
        "superseded",
        "expired",
        "cancelled",
        "annulled",
        "withdrawn",
        "revoked",
        "suspended",
    }
)
ACTIONS = frozenset(
    {
        "issue",
        "change",
        "renew",
        "supersede",
        "expire",
        "cancel",
        "annul",
        "withdraw",
        "revoke",
        "suspend",
        "resume",
    }
)
# Statuses a department sets by hand: the reason is mandatory for them.
REASONED = frozenset({"cancelled", "annulled", "withdrawn", "revoked", "suspended"})
REQUIRED = (
    "certificate_identifier",
    "certificate_type_code",
    "certificate_name",
    "issuer_code",
    "action",
    "status",
    "occurred_at",
)
HOLDER_FIELDS = frozenset(
    {"holder", "holder_name", "holder_code", "holder_code_type", "holder_id", "face_data"}
)
TEXT_FIELDS = ("reason", "legal_basis", "certificate_name")
PERSONAL_NUMBER = re.compile(r"(?<!\d)(\d{17}[\dXx]|1[3-9]\d{9})(?!\d)")

ROOT = "1.2.156.3005.2"
IDENTIFIER = re.compile(
    r"^1\.2\.156\.3005\.2\.(?P<type>[0-9A-Z]{18}\d{3})\.(?P<issuer>[0-9A-Z]{18}|\d{6})"
    r"\.(?P<serial>[0-9A-Z]{1,64})\.(?P<version>\d{3})\.(?P<check>[0-9A-Z])$"
)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def mod_37_36(body: str) -> str:
    """ISO/IEC 7064 MOD 37,36 (GB/T 17710) check character, written here without the portal's
    code so the check is independent of the implementation it checks."""
    modulus = 36
    check = modulus // 2
    for char in body:
        check = (((check or modulus) * 2) % (modulus + 1) + _ALPHABET.index(char)) % modulus
    return _ALPHABET[(1 - ((check or modulus) * 2) % (modulus + 1)) % modulus]


def parse_identifier(value: object) -> dict[str, str] | None:
    """The identifier's parts, or ``None`` when its shape or check character is wrong."""
    match = IDENTIFIER.match(str(value or ""))
    if match is None:
        return None
    parts = match.groupdict()
    body = parts["type"] + parts["issuer"] + parts["serial"] + parts["version"]
    return parts if mod_37_36(body) == parts["check"] else None


def _time_ok(value: object) -> bool:
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return False
    return moment.tzinfo is not None


def check(envelope: Mapping[str, Any]) -> list[str]:
    """The platform's field check: a list of errors, empty when the payload is valid."""
    event = str(envelope.get("event") or "")
    payload = envelope.get("payload")
    if not isinstance(payload, Mapping):
        return ["payload: not an object"]
    if not event.startswith(EVENT_PREFIX):
        return [f"event: {event!r} is not a licence status event"]
    # The privacy refusals first.
    errors: list[str] = []
    if HOLDER_FIELDS & set(payload):
        errors.append("holder data: not shared")
    if any(PERSONAL_NUMBER.search(str(payload.get(name) or "")) for name in TEXT_FIELDS):
        errors.append("personal number in clear")
    # Then the identifier (the portal keeps only the start of an error body).
    parts = parse_identifier(payload.get("certificate_identifier"))
    if payload.get("certificate_identifier") and parts is None:
        errors.append("certificate_identifier: not a GB/T 36904 identifier")
    errors.extend(f"{name}: required" for name in REQUIRED if not payload.get(name))
    if payload.get("cd_operation") != "U":
        errors.append("cd_operation: expected U")
    status = payload.get("status")
    if status not in STATUSES:
        errors.append("status: not in the code list")
    elif event != f"{EVENT_PREFIX}{status}":
        errors.append("event: does not match status")
    if payload.get("from_status") not in STATUSES:
        errors.append("from_status: not in the code list")
    if payload.get("action") not in ACTIONS:
        errors.append("action: not in the code list")
    if status in REASONED and not str(payload.get("reason") or "").strip():
        errors.append("reason: required")
    if payload.get("occurred_at") and not _time_ok(payload["occurred_at"]):
        errors.append("occurred_at: expected ISO 8601 with a time zone")
    if parts is not None:
        if payload.get("certificate_type_code") != parts["type"]:
            errors.append("certificate_type_code: does not match the identifier")
        if payload.get("issuer_code") != parts["issuer"]:
            errors.append("issuer_code: does not match the identifier")
    successor = payload.get("superseded_by") or ""
    if status == "superseded":
        following = parse_identifier(successor)
        if following is None:
            errors.append("superseded_by: not a GB/T 36904 identifier")
        elif parts is not None and (
            (following["type"], following["issuer"], following["serial"])
            != (parts["type"], parts["issuer"], parts["serial"])
            or int(following["version"]) <= int(parts["version"])
        ):
            errors.append("superseded_by: not a later version of the licence")
    elif successor:
        errors.append("superseded_by: only for a superseded licence")
    return errors


def reply(envelope: Mapping[str, Any], *, duplicate: bool) -> dict[str, Any]:
    """The platform's acknowledgement of a stored change (also for a repeated one)."""
    return {
        "code": "200",
        "msg": "接收成功",
        "data": {
            "certificateIdentifier": envelope["payload"].get("certificate_identifier", ""),
            "receiveStatus": "1",
            "duplicate": duplicate,
        },
    }


def refusal(errors: list[str]) -> dict[str, Any]:
    return {"code": "400", "msg": "数据校验不通过", "errors": errors}
