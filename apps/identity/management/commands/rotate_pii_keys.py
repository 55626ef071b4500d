"""``manage.py rotate_pii_keys``: re-encrypt personal data under the first key of PII_KEYS.

Rotation: put the new key first in PII_KEYS (keep the old ones after it), deploy, run this
command, then remove the old keys. Safe to run repeatedly; rows already under the first key are
skipped. Blind indexes do not change (they use PII_INDEX_KEY).
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction

from apps.audit.services import record_audit_event
from apps.identity.pii import encrypted_field_names, needs_rotation, rotate


class Command(BaseCommand):
    help = "用 PII_KEYS 中的第一个密钥重新加密全部个人敏感数据（可重复执行）。"

    def handle(self, *args: Any, **options: Any) -> None:
        total = 0
        for model in apps.get_models():
            fields = encrypted_field_names(model)
            if not fields:
                continue
            table = connection.ops.quote_name(model._meta.db_table)
            columns = ", ".join(connection.ops.quote_name(f) for f in fields)
            with transaction.atomic(durable=True):
                with connection.cursor() as cursor:
                    # Raw SQL: the ORM would hand us plaintext; we rotate ciphertexts as they are.
                    cursor.execute(f"SELECT id, {columns} FROM {table} FOR UPDATE")  # noqa: S608
                    rows = cursor.fetchall()
                    changed = 0
                    for pk, *tokens in rows:
                        updates = {
                            field: rotate(token)
                            for field, token in zip(fields, tokens, strict=True)
                            if token and needs_rotation(token)
                        }
                        if not updates:
                            continue
                        assignments = ", ".join(
                            f"{connection.ops.quote_name(f)} = %s" for f in updates
                        )
                        cursor.execute(
                            f"UPDATE {table} SET {assignments} WHERE id = %s",  # noqa: S608
                            [*updates.values(), pk],
                        )
                        changed += 1
                if changed:
                    record_audit_event(
                        actor=None,
                        action="identity.pii_keys_rotated",
                        object_type=model._meta.label_lower,
                        data={"rows": changed},
                    )
            total += changed
            self.stdout.write(f"{model._meta.label}: {changed} 行已重新加密")
        self.stdout.write(self.style.SUCCESS(f"完成：共 {total} 行"))
