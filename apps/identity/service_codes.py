"""The format of service codes (一人一码 / 一企一码, DOMAIN.md §4.5).

A code is 8 random Crockford base-32 characters (40 bits) followed by 5 characters (25 bits)
of an HMAC of those 8 under the server's key. Only a keyed hash of the random part is stored
(``ServiceCode.token_hash``); the signature lets the server refuse a forged or mistyped code
before any lookup. Neither part says anything about the holder: the QR carries the same
characters with a version prefix, never a name or an ID number.

Typed form: ``ABCD-EFGH-JKLMN``. Clerks may type it in any case, with or without dashes or
spaces; Crockford's look-alikes are folded (O → 0, I and L → 1). A scanner that types the QR
payload (``GPSC1:ABCDEFGHJKLMN``) works too.
"""

from __future__ import annotations

import hmac
import secrets

from django.utils.crypto import salted_hmac

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
RANDOM_LENGTH = 8
SIGNATURE_LENGTH = 5
CODE_LENGTH = RANDOM_LENGTH + SIGNATURE_LENGTH
QR_PREFIX = "GPSC1:"
_FOLD = str.maketrans({"O": "0", "I": "1", "L": "1", "-": None, " ": None})


def _b32(data: bytes, length: int) -> str:
    number = int.from_bytes(data, "big")
    chars = []
    for _ in range(length):
        chars.append(ALPHABET[number & 31])
        number >>= 5
    return "".join(reversed(chars))


def _signature(random_part: str) -> str:
    digest = salted_hmac("apps.identity.service_codes.signature", random_part, algorithm="sha256")
    return _b32(digest.digest()[:4], SIGNATURE_LENGTH)


def token_hash(random_part: str) -> str:
    """The stored form: a keyed hash, so a database reader cannot present a live code."""
    return salted_hmac(
        "apps.identity.service_codes.store", random_part, algorithm="sha256"
    ).hexdigest()


def new_code() -> tuple[str, str]:
    """A fresh ``(code, random_part)``; ``code`` is the 13-character typeable form."""
    random_part = _b32(secrets.token_bytes(5), RANDOM_LENGTH)
    return random_part + _signature(random_part), random_part


def display(code: str) -> str:
    """``ABCDEFGHJKLMN`` → ``ABCD-EFGH-JKLMN``."""
    return f"{code[:4]}-{code[4:8]}-{code[8:]}"


def qr_payload(code: str) -> str:
    return QR_PREFIX + code


def normalise(value: str) -> str:
    """What a clerk typed or a scanner sent, in canonical form (may still be invalid)."""
    value = (value or "").strip().upper()
    if ":" in value:
        value = value.rsplit(":", 1)[1]
    return "".join(value.split()).translate(_FOLD)


def verified_random_part(value: str) -> str | None:
    """The random part of a well-formed, correctly signed code, else ``None`` (forged/typo)."""
    code = normalise(value)
    if len(code) != CODE_LENGTH or any(c not in ALPHABET for c in code):
        return None
    random_part, signature = code[:RANDOM_LENGTH], code[RANDOM_LENGTH:]
    if not hmac.compare_digest(signature, _signature(random_part)):
        return None
    return random_part
