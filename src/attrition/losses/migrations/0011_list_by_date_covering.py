"""The public lists' date index also holds the columns the lists test (covering).

0005's (first_seen DESC, id DESC) made every row of a walk read the table for its conflict, and
SQLite's planner then preferred a covering index and a sort of every matching row: a date range,
or oldest first after its first page, took 6-15 ms a page at 100,000 losses. With the conflict,
side, fate, model and place in the index the walk reads nothing else and stops at the page's end
(bench/publish.py). As 0005, NULLS LAST on PostgreSQL.
"""

from django.db import migrations, models

NAME = "losses_loss_public_seen"
WHERE = "WHERE deleted_at IS NULL AND status = 'verified'"
REST = "conflict_id, side_id, fate, model_id, admin_unit_id"
COLUMNS = {
    "postgresql": {
        "new": f"first_seen DESC NULLS LAST, id DESC, {REST}",
        "old": "first_seen DESC NULLS LAST, id DESC",
    },
    "sqlite": {"new": f"first_seen DESC, id DESC, {REST}", "old": "first_seen DESC, id DESC"},
}
CONDITION = models.Q(status="verified", deleted_at__isnull=True)


def index_swap(schema_editor, which: str) -> None:
    columns = COLUMNS.get(schema_editor.connection.vendor, COLUMNS["sqlite"])[which]
    schema_editor.execute(f"DROP INDEX IF EXISTS {NAME}")
    schema_editor.execute(f"CREATE INDEX {NAME} ON losses_loss ({columns}) {WHERE}")


def forward(apps, schema_editor):
    index_swap(schema_editor, "new")


def backward(apps, schema_editor):
    index_swap(schema_editor, "old")


class Migration(migrations.Migration):
    dependencies = [("losses", "0010_counts_by_period")]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.RemoveIndex(model_name="loss", name=NAME),
                migrations.AddIndex(
                    model_name="loss",
                    index=models.Index(
                        fields=[
                            "-first_seen",
                            "-id",
                            "conflict",
                            "side",
                            "fate",
                            "model",
                            "admin_unit",
                        ],
                        name=NAME,
                        condition=CONDITION,
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(forward, backward)],
        ),
    ]
