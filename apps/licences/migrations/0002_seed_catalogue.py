"""Seed the 证照目录 from apps.catalog.licence_types (the list the catalogue referred to so far)."""

from django.db import migrations


def seed(apps, schema_editor):
    from apps.licences.seed import seed_rows

    LicenceType = apps.get_model("licences", "LicenceType")
    for row in seed_rows():
        LicenceType.objects.get_or_create(code=row["code"], defaults=row)


class Migration(migrations.Migration):
    dependencies = [("licences", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
