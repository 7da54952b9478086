"""Text search of the public lists from an index (attrition.losses.textsearch), not a table scan.

`q` matched a substring of four columns of every loss (~180 ms a page on SQLite at 100,000
losses when little matches). SQLite: an FTS5 trigram table over those columns, filled here and
kept in step by triggers; PostgreSQL: a pg_trgm GIN index over their UPPER(), what icontains
compares. Nothing is declared on the model (a virtual table and an operator-class index have no
Meta form), so the migration state does not change.
"""

from django.db import migrations


def install(apps, schema_editor):
    from attrition.losses.textsearch import text_index_install

    text_index_install(connection=schema_editor.connection)


def drop(apps, schema_editor):
    from attrition.losses.textsearch import text_index_drop

    text_index_drop(connection=schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("losses", "0008_list_by_side")]

    operations = [migrations.RunPython(install, drop)]
