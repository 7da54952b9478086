"""The public lists filtered by side, newest first, read in index order.

A list of one side's losses (the trackers' usual page), alone or with a fate or a model, was
read from the counts' index and sorted: ~10 ms for 30,000 rows on SQLite at 100,000 losses.
This index walks one side's losses newest first and holds the columns those filters test, so
that the walk stops at the page's end (bench/publish.py). As 0005, NULLS LAST on PostgreSQL.
"""

from django.db import migrations, models

NAME = "losses_loss_public_side"
WHERE = "WHERE deleted_at IS NULL AND status = 'verified'"
REST = "fate, model_id, conflict_id, admin_unit_id"
COLUMNS = {
    "postgresql": f"side_id, first_seen DESC NULLS LAST, id DESC, {REST}",
    "sqlite": f"side_id, first_seen DESC, id DESC, {REST}",
}


def create(apps, schema_editor):
    columns = COLUMNS.get(schema_editor.connection.vendor, COLUMNS["sqlite"])
    schema_editor.execute(f"CREATE INDEX {NAME} ON losses_loss ({columns}) {WHERE}")


def drop(apps, schema_editor):
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")


class Migration(migrations.Migration):
    dependencies = [("losses", "0007_list_covering")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="loss",
                    index=models.Index(
                        fields=[
                            "side",
                            "-first_seen",
                            "-id",
                            "fate",
                            "model",
                            "conflict",
                            "admin_unit",
                        ],
                        name=NAME,
                        condition=models.Q(status="verified", deleted_at__isnull=True),
                    ),
                )
            ],
            database_operations=[migrations.RunPython(create, drop)],
        ),
    ]
