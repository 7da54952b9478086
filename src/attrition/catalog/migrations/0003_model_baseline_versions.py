"""Give every equipment model without history a first version, dated its creation.

Counts "as of" a date file losses under the category each model had then; a model edited before
it had any version would otherwise lose the category it had before the edit.
"""

from django.db import migrations


def baseline(apps, schema_editor):
    EquipmentModel = apps.get_model("catalog", "EquipmentModel")
    Version = apps.get_model("catalog", "EquipmentModelVersion")
    versioned = Version.objects.values("record_id")
    rows = [
        Version(
            record_id=m.pk,
            version=1,
            valid_from=m.created_at,
            change_kind="import",
            change_reason="as stored before its first recorded change",
            changed_via="migration",
            slug=m.slug,
            name=m.name,
            category_id=m.category_id,
            country_of_production=m.country_of_production,
            description=m.description,
            created_at=m.created_at,
            updated_at=m.updated_at,
        )
        for m in EquipmentModel.objects.exclude(pk__in=versioned).iterator()
    ]
    Version.objects.bulk_create(rows, batch_size=1000)


class Migration(migrations.Migration):

    dependencies = [
        ("catalog", "0002_initial"),
    ]

    operations = [
        migrations.RunPython(baseline, migrations.RunPython.noop),
    ]
