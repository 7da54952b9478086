"""Indexes for the public reads: the data version (latest updated_at), the counts (covering), and
the lists' newest-first order.

The list index is declared in the model's Meta as (-first_seen, -id); on PostgreSQL it is created
with NULLS LAST, the order the lists ask for (a plain DESC index puts NULLs first there and the
planner would sort every row instead). SQLite refuses NULLS LAST in an index: its descending
indexes already put NULLs last.
"""

from django.db import migrations, models

NAME = "losses_loss_public_seen"
WHERE = "WHERE deleted_at IS NULL AND status = 'verified'"
COLUMNS = {
    "postgresql": "first_seen DESC NULLS LAST, id DESC",
    "sqlite": "first_seen DESC, id DESC",
}


def create(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    columns = COLUMNS.get(vendor, "first_seen DESC, id DESC")
    schema_editor.execute(f"CREATE INDEX {NAME} ON losses_loss ({columns}) {WHERE}")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("losses", "0004_review_needs_changes")]

    operations = [
        migrations.AddIndex(
            model_name="loss",
            index=models.Index(fields=["updated_at"], name="losses_loss_updated"),
        ),
        migrations.AddIndex(
            model_name="loss",
            index=models.Index(
                fields=[
                    "status",
                    "conflict",
                    "side",
                    "model",
                    "fate",
                    "admin_unit",
                    "first_seen",
                    "deleted_at",
                ],
                name="losses_loss_public_stats",
                condition=models.Q(deleted_at__isnull=True),
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="loss",
                    index=models.Index(
                        fields=["-first_seen", "-id"],
                        name=NAME,
                        condition=models.Q(status="verified", deleted_at__isnull=True),
                    ),
                )
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
