"""An index matching the API's default deal order: newest announcement first, undated last, ties by slug.

Without it every deals page sorts the whole table (an on-disk merge sort at 100k rows on PostgreSQL); with it
the database walks the index. It is created per database because the two disagree on NULL placement:
PostgreSQL needs ``DESC NULLS LAST`` spelled out, while SQLite puts NULLs last in a descending index already
and rejects ``NULLS LAST`` in CREATE INDEX. Not a model ``Meta.indexes`` entry for the same reason (Django
would emit ``NULLS LAST`` on SQLite too); ``makemigrations`` does not track it, and nothing else depends on it.
Measured by scripts/bench_pagination.py.
"""

from django.db import migrations

INDEX = "deal_default_order_idx"


def index_create(apps, schema_editor):
    nulls = " NULLS LAST" if schema_editor.connection.vendor == "postgresql" else ""
    schema_editor.execute(f'CREATE INDEX "{INDEX}" ON "deals_deal" ("announced_date" DESC{nulls}, "slug")')


def index_drop(apps, schema_editor):
    schema_editor.execute(f'DROP INDEX IF EXISTS "{INDEX}"')


class Migration(migrations.Migration):
    dependencies = [
        ("deals", "0003_evidence_span_messages"),
    ]

    operations = [
        migrations.RunPython(index_create, index_drop, elidable=False),
    ]
