"""Install the append-only triggers of attrition.evidence.guards."""

from django.db import migrations


def install(apps, schema_editor):
    from attrition.evidence.guards import custody_log_guard_install

    custody_log_guard_install(connection=schema_editor.connection)


def drop(apps, schema_editor):
    from attrition.evidence.guards import custody_log_guard_drop

    custody_log_guard_drop(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("evidence", "0002_capture_jobs_custody_log_source_status")]

    operations = [migrations.RunPython(install, drop)]
