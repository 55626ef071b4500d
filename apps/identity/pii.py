"""Personal data at rest and on screen (DOMAIN.md §4.1, §4.7; 个人信息保护法 Art. 51).

- ``EncryptedTextField`` stores ID and phone numbers encrypted with Fernet (AES-128-CBC +
  HMAC-SHA256). ``settings.PII_KEYS`` lists the keys: the first encrypts, every key decrypts,
  so a key is rotated by putting a new one first and re-encrypting (``rotate_pii_keys``).
- ``blind_index`` is a keyed HMAC-SHA256 of the normalised value, stored beside the ciphertext
  for exact lookup (the national exchange does the same with its 散列值 columns). Each kind of
  value has its own ``purpose`` so equal strings of different kinds never share an index.
- ``mask_*`` give the display forms; templates and serializers show only these unless a
  permitted staff action reveals the value (audited, see ``services.reveal_person_id_number``).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Sequence
from functools import lru_cache
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models
from django.utils.translation import gettext_lazy as _

# Ciphertexts carry this prefix so a plaintext that slipped in (or a dump) is recognisable.
CIPHER_PREFIX = "fernet:"


@lru_cache(maxsize=4)
def _fernet(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ImproperlyConfigured("PII_KEYS is empty")
    return MultiFernet([Fernet(key.encode()) for key in keys])


def _current_fernet() -> MultiFernet:
    return _fernet(tuple(settings.PII_KEYS))


def encrypt(value: str) -> str:
    return CIPHER_PREFIX + _current_fernet().encrypt(value.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(CIPHER_PREFIX):
        raise ValueError("not an encrypted PII value")
    try:
        raw = _current_fernet().decrypt(token[len(CIPHER_PREFIX) :].encode("ascii"))
    except InvalidToken as exc:
        raise ValueError("PII value cannot be decrypted with the configured PII_KEYS") from exc
    return raw.decode("utf-8")


def rotate(token: str) -> str:
    """Re-encrypt ``token`` under the first key (no-op in meaning, new ciphertext)."""
    raw = _current_fernet().rotate(token[len(CIPHER_PREFIX) :].encode("ascii"))
    return CIPHER_PREFIX + raw.decode("ascii")


def needs_rotation(token: str) -> bool:
    """Whether ``token`` was encrypted under a key other than the first."""
    primary = Fernet(settings.PII_KEYS[0].encode())
    try:
        primary.decrypt(token[len(CIPHER_PREFIX) :].encode("ascii"))
    except InvalidToken:
        return True
    return False


def normalise(value: str) -> str:
    """The canonical form used for indexing: no spaces or dashes, upper case (ID ``x`` → ``X``)."""
    return "".join(value.split()).replace("-", "").upper()


def blind_index(value: str, *, purpose: str) -> str:
    """Keyed HMAC-SHA256 (hex) of the normalised ``value`` for exact-match lookups."""
    key = settings.PII_INDEX_KEY.encode("utf-8")
    message = f"{purpose}:{normalise(value)}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()


def id_number_index(value: str) -> str:
    return blind_index(value, purpose="id_number")


def phone_index(value: str) -> str:
    return blind_index(value, purpose="phone")


# --- masking (DOMAIN.md §4.7: ID 4 + 4, phone 3 + 4, name keeps the family name) -------------


def mask_id_number(value: str | None) -> str:
    if not value:
        return ""
    value = normalise(value)
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str | None) -> str:
    if not value:
        return ""
    value = normalise(value)
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]


def mask_name(value: str | None) -> str:
    """张三 → 张*, 张三丰 → 张*丰, 欧阳娜娜 → 欧**娜."""
    if not value:
        return ""
    if len(value) == 1:
        return value
    if len(value) == 2:
        return value[0] + "*"
    return value[0] + "*" * (len(value) - 2) + value[-1]


class EncryptedTextField(models.TextField):
    """A text column holding ``fernet:<token>``; Python sees the plaintext.

    Only ``isnull`` and exact lookups on ``""`` make sense on ciphertext, so every other lookup
    is refused: look rows up through the blind index column instead.
    """

    description = _("加密文本")

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> str | None:
        if value is None or value == "":
            return value
        return decrypt(value)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(CIPHER_PREFIX):
            return decrypt(value)
        return value

    def get_prep_value(self, value: Any) -> Any:
        value = super().get_prep_value(value)
        if value is None or value == "":
            return value
        return encrypt(str(value))

    def get_lookup(self, lookup_name: str) -> Any:
        if lookup_name not in ("isnull",):
            raise NotImplementedError(
                f"EncryptedTextField does not support the {lookup_name!r} lookup; "
                "use the blind index column"
            )
        return super().get_lookup(lookup_name)


def encrypted_field_names(model: type[models.Model]) -> Sequence[str]:
    return [f.attname for f in model._meta.concrete_fields if isinstance(f, EncryptedTextField)]
