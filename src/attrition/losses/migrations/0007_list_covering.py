"""Covering indexes for pages of the public list filtered by model (or category) and by place.

A model with 20,000 public losses was read row by row and sorted (~40 ms on SQLite at 100,000
losses); from these indexes alone it takes ~5 ms (bench/publish.py).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("losses", "0006_versions_covering_index")]

    operations = [
        migrations.AddIndex(
            model_name="loss",
            index=models.Index(
                fields=["model", "first_seen", "conflict", "status", "deleted_at"],
                name="losses_loss_public_model",
                condition=models.Q(status="verified", deleted_at__isnull=True),
            ),
        ),
        migrations.AddIndex(
            model_name="loss",
            index=models.Index(
                fields=["admin_unit", "first_seen", "conflict", "status", "deleted_at"],
                name="losses_loss_public_place",
                condition=models.Q(status="verified", deleted_at__isnull=True),
            ),
        ),
    ]
