"""``EncryptedJSONField``: a JSON document encrypted at rest with the identity app's PII keys.

A handoff's payload carries the application form (ID numbers, phone numbers), so it is stored
as ``fernet:<token>`` of its JSON text (``apps.identity.pii``: Fernet, ``PII_KEYS`` from the
environment, the first key encrypts, every key decrypts). Being an ``EncryptedTextField``, it
is re-encrypted by ``manage.py rotate_pii_keys`` like every other personal-data column.
Python sees the document; the database (and any dump of it) sees only ciphertext.
"""

from __future__ import annotations

import json
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

from apps.identity.pii import CIPHER_PREFIX, EncryptedTextField, decrypt, encrypt


class EncryptedJSONField(EncryptedTextField):
    description = "Encrypted JSON document"

    def from_db_value(self, value: Any, expression: Any, connection: Any) -> Any:
        if value is None or value == "":
            return value
        return json.loads(decrypt(value))

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str) and value.startswith(CIPHER_PREFIX):
            return json.loads(decrypt(value))
        return value

    def get_prep_value(self, value: Any) -> Any:
        if value is None:
            return None
        text = json.dumps(value, ensure_ascii=False, sort_keys=True, cls=DjangoJSONEncoder)
        return encrypt(text)

    def value_to_string(self, obj: Any) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, cls=DjangoJSONEncoder)
