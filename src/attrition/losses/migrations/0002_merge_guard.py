"""Install the merge triggers of attrition.losses.guards."""

from django.db import migrations


def install(apps, schema_editor):
    from attrition.losses.guards import merge_guard_install

    merge_guard_install(connection=schema_editor.connection)


def drop(apps, schema_editor):
    from attrition.losses.guards import merge_guard_drop

    merge_guard_drop(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("losses", "0001_initial")]

    operations = [migrations.RunPython(install, drop)]
