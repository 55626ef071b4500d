"""Encrypt ``Handoff.payload`` at rest (personal data: the application form).

The column becomes text holding ``fernet:<token>`` (apps.handoffs.fields.EncryptedJSONField);
rows written before are encrypted in place with the first of ``PII_KEYS``.
"""

from django.db import migrations

import apps.handoffs.fields


def encrypt_existing(apps, schema_editor):
    from apps.identity.pii import CIPHER_PREFIX, encrypt

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, payload FROM handoffs_handoff")
        for pk, text in cursor.fetchall():
            if text is None or text.startswith(CIPHER_PREFIX):
                continue
            cursor.execute(
                "UPDATE handoffs_handoff SET payload = %s WHERE id = %s", [encrypt(text), pk]
            )


def decrypt_existing(apps, schema_editor):
    from apps.identity.pii import CIPHER_PREFIX, decrypt

    connection = schema_editor.connection
    with connection.cursor() as cursor:
        cursor.execute("SELECT id, payload FROM handoffs_handoff")
        for pk, text in cursor.fetchall():
            if text and text.startswith(CIPHER_PREFIX):
                cursor.execute(
                    "UPDATE handoffs_handoff SET payload = %s WHERE id = %s", [decrypt(text), pk]
                )


class Migration(migrations.Migration):
    dependencies = [
        ("handoffs", "0002_idempotent_request"),
    ]

    operations = [
        migrations.AlterField(
            model_name="handoff",
            name="payload",
            field=apps.handoffs.fields.EncryptedJSONField(default=dict, verbose_name="交接内容"),
        ),
        migrations.RunPython(encrypt_existing, decrypt_existing),
    ]
