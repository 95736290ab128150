"""Re-create the default-order deal index where a later migration dropped it.

On SQLite, Django alters a table by re-creating it, and only re-creates the indexes the model state knows about;
0006 re-created ``deals_deal`` and so silently dropped the hand-made index of 0004. ``IF NOT EXISTS`` makes this
a no-op on PostgreSQL (which alters in place). tests/test_indexes.py fails if a future migration drops it again.
"""

from django.db import migrations

INDEX = "deal_default_order_idx"


def index_create(apps, schema_editor):
    nulls = " NULLS LAST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(
        f'CREATE INDEX IF NOT EXISTS "{INDEX}" ON "deals_deal" ("announced_date" DESC{nulls}, "slug")'
    )


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0006_choice_constraints_unknown_status"),
    ]

    # Reversing leaves the index in place: 0004's reverse drops it.
    operations = [migrations.RunPython(index_create, migrations.RunPython.noop, elidable=False)]
