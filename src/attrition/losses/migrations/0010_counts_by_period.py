"""An index of a conflict's public losses by day: counts by period (the statistics and charts)
read it in order and group as they go, instead of sorting 88,000 rows (SQLite 45 -> 15 ms)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("losses", "0009_text_search")]

    operations = [
        migrations.AddIndex(
            model_name="loss",
            index=models.Index(
                fields=["conflict", "first_seen", "side", "model", "fate", "admin_unit"],
                name="losses_loss_public_period",
                condition=models.Q(status="verified", deleted_at__isnull=True),
            ),
        ),
    ]
