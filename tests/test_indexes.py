"""The hand-made default-order deal index (migrations 0004/0007) exists after migrating, on every database.

Django does not track it in the model state, so a migration that re-creates ``deals_deal`` on SQLite drops it
without a word; this test is what notices.
"""

import pytest
from django.db import connection


@pytest.mark.django_db
def test_deal_default_order_index_exists():
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "deals_deal")
    index = constraints.get("deal_default_order_idx")
    assert index is not None, sorted(constraints)
    assert index["index"] is True
    assert index["columns"] == ["announced_date", "slug"]
