"""ControlRecord.valid_from becomes `since`: the old name shadowed its version table's column."""

import django.db.models.expressions
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("territory", "0001_initial")]

    operations = [
        migrations.RemoveConstraint(
            model_name="controlrecord", name="territory_control_confirmed_after_start"
        ),
        migrations.RenameField(model_name="controlrecord", old_name="valid_from", new_name="since"),
        migrations.AlterField(
            model_name="controlrecord",
            name="since",
            field=models.DateField(help_text="Date from which this status held."),
        ),
        migrations.AlterModelOptions(
            name="controlrecord", options={"ordering": ["unit_id", "-since"]}
        ),
        migrations.AddConstraint(
            model_name="controlrecord",
            constraint=models.CheckConstraint(
                condition=models.Q(("last_confirmed__isnull", True))
                | models.Q(("last_confirmed__gte", django.db.models.expressions.F("since"))),
                name="territory_control_confirmed_after_start",
            ),
        ),
        migrations.AlterField(
            model_name="controlrecordversion", name="valid_from", field=models.DateTimeField()
        ),
        migrations.AddField(
            model_name="controlrecordversion",
            name="since",
            field=models.DateField(help_text="Date from which this status held.", null=True),
        ),
    ]
