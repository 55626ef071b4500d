from django.db import migrations

from apps.reviews.indicators import seed_indicator_sets


def forwards(apps, schema_editor):
    seed_indicator_sets(
        apps.get_model("reviews", "IndicatorSet"),
        apps.get_model("reviews", "Indicator"),
        apps.get_model("reviews", "IndicatorOption"),
    )


class Migration(migrations.Migration):
    dependencies = [("reviews", "0001_initial")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
