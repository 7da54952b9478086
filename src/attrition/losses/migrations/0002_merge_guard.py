"""A loss may only be merged into a live loss, and a loss others were merged into stays live."""

from django.db import migrations

MESSAGE = "losses_loss_merge_target_live: a loss can only be merged into a loss that is not merged"

SQLITE = [
    f"""
    CREATE TRIGGER losses_loss_merge_guard_ins BEFORE INSERT ON losses_loss
    WHEN NEW.merged_into_id IS NOT NULL
      AND (SELECT status FROM losses_loss WHERE id = NEW.merged_into_id) = 'merged'
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER losses_loss_merge_guard_upd BEFORE UPDATE OF merged_into_id, status ON losses_loss
    WHEN (NEW.merged_into_id IS NOT NULL
          AND (SELECT status FROM losses_loss WHERE id = NEW.merged_into_id) = 'merged')
      OR (NEW.status = 'merged' AND EXISTS (SELECT 1 FROM losses_loss WHERE merged_into_id = NEW.id))
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS losses_loss_merge_guard_ins",
    "DROP TRIGGER IF EXISTS losses_loss_merge_guard_upd",
]

POSTGRES = [
    f"""
    CREATE FUNCTION losses_loss_merge_guard() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.merged_into_id IS NOT NULL AND EXISTS (
          SELECT 1 FROM losses_loss WHERE id = NEW.merged_into_id AND status = 'merged') THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF NEW.status = 'merged' AND EXISTS (
          SELECT 1 FROM losses_loss WHERE merged_into_id = NEW.id) THEN
        RAISE EXCEPTION '{MESSAGE}' USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$
    """,
    """
    CREATE TRIGGER losses_loss_merge_guard
    BEFORE INSERT OR UPDATE OF merged_into_id, status ON losses_loss
    FOR EACH ROW EXECUTE FUNCTION losses_loss_merge_guard()
    """,
]
POSTGRES_DROP = [
    "DROP TRIGGER IF EXISTS losses_loss_merge_guard ON losses_loss",
    "DROP FUNCTION IF EXISTS losses_loss_merge_guard()",
]


def _run(statements_by_vendor):
    def run(apps, schema_editor):
        for sql in statements_by_vendor.get(schema_editor.connection.vendor, []):
            schema_editor.execute(sql)

    return run


class Migration(migrations.Migration):
    dependencies = [("losses", "0001_initial")]

    operations = [
        migrations.RunPython(
            _run({"sqlite": SQLITE, "postgresql": POSTGRES}),
            _run({"sqlite": SQLITE_DROP, "postgresql": POSTGRES_DROP}),
        ),
    ]
