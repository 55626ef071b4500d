"""Seed the browsing themes, and on PostgreSQL make published versions immutable.

A trigger refuses UPDATE and DELETE on ``catalog_itemversion`` and the rows that hang off a
version (materials, handling variants): a case applied under a version must always see exactly
what was published (issue 4 "Life cycle and versions").
"""

from django.db import migrations

THEMES = [
    ("birth", "person", "出生"),
    ("education", "person", "上学"),
    ("employment", "person", "就业"),
    ("marriage", "person", "婚育"),
    ("housing", "person", "住房"),
    ("social-security", "person", "社保"),
    ("travel", "person", "出行"),
    ("medical", "person", "医疗"),
    ("retirement", "person", "退休"),
    ("after-death", "person", "身后"),
    ("start-up", "enterprise", "开办"),
    ("operation", "enterprise", "经营"),
    ("construction", "enterprise", "投资建设"),
    ("tax", "enterprise", "纳税"),
    ("change", "enterprise", "变更"),
    ("closure", "enterprise", "注销"),
]

TABLES = ["catalog_itemversion", "catalog_itemmaterial", "catalog_handlingvariant"]

FORBID_SQL = """
CREATE OR REPLACE FUNCTION catalog_version_forbid_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'published item versions are immutable (% on % refused)', TG_OP, TG_TABLE_NAME;
END
$$ LANGUAGE plpgsql;
"""


def seed_themes(apps, schema_editor):
    theme_model = apps.get_model("catalog", "Theme")
    for order, (code, audience, name) in enumerate(THEMES):
        theme_model.objects.update_or_create(
            code=code, defaults={"audience": audience, "name": name, "order": order}
        )


def add_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(FORBID_SQL, params=None)
    for table in TABLES:
        schema_editor.execute(
            f"DROP TRIGGER IF EXISTS {table}_immutable ON {table}; "
            f"CREATE TRIGGER {table}_immutable BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION catalog_version_forbid_change();",
            params=None,
        )


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table in TABLES:
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_immutable ON {table};", params=None)
    schema_editor.execute("DROP FUNCTION IF EXISTS catalog_version_forbid_change();", params=None)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]

    operations = [
        migrations.RunPython(seed_themes, migrations.RunPython.noop),
        migrations.RunPython(add_triggers, drop_triggers),
    ]
