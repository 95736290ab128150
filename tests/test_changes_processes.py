"""The change feed under two real writer processes: sequence numbers follow commit order, so a client that has read
up to N never finds a committed entry below N later (the counter row's lock is held until the writer commits)."""

import subprocess
import sys
import time

from tests.test_dataset_processes import ROOT, database, manage, migrated_template  # noqa: F401 - fixtures

SEED = "from tests.factories import DealFactory; DealFactory(slug='first'); DealFactory(slug='second')"
# Writer A changes `first` and holds its transaction open until the test lets it commit.
WRITER_A = """
import pathlib, time
from django.db import transaction
from deals.models import Deal
flag = pathlib.Path({flags!r})
with transaction.atomic():
    deal = Deal.objects.get(slug='first'); deal.title = 'A'; deal.save()
    (flag / 'a-wrote').touch()
    for _ in range(200):
        if (flag / 'a-go').exists():
            break
        time.sleep(0.05)
print('A committed')
"""
# Writer B changes `second`; on SQLite (one writer at a time) it may be told the database is locked: it retries.
WRITER_B = """
import time
from django.db import OperationalError, transaction
from deals.models import ChangeEntry, Deal
for attempt in range(100):
    try:
        with transaction.atomic():
            deal = Deal.objects.get(slug='second'); deal.title = 'B'; deal.save()
        break
    except OperationalError:
        time.sleep(0.1)
print('B committed', ChangeEntry.objects.filter(slug='second').values_list('sequence', flat=True).last())
"""


def _shell(env: dict, code: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _entries(connect) -> list[tuple[int, str, str]]:
    conn = connect()
    try:
        rows = conn.execute("SELECT sequence, action, slug FROM deals_changeentry ORDER BY sequence").fetchall()
        return [tuple(row) for row in rows]
    finally:
        conn.close()


def test_a_writer_that_took_a_number_first_commits_first_and_a_reader_never_skips_it(database, tmp_path):  # noqa: F811
    env, connect = database
    manage(env, "shell", "-c", SEED)
    before = _entries(connect)
    assert [(a, s) for _, a, s in before] == [("created", "first"), ("created", "second")]
    start = before[-1][0]
    a = _shell(env, WRITER_A.format(flags=str(tmp_path)))
    for _ in range(400):
        if (tmp_path / "a-wrote").exists() or a.poll() is not None:
            break
        time.sleep(0.05)
    assert (tmp_path / "a-wrote").exists(), a.communicate()
    b = _shell(env, WRITER_B)
    seen = []
    for _ in range(10):  # a client polls the feed while A holds its number uncommitted
        time.sleep(0.2)
        seen += [row for row in _entries(connect) if row[0] > start]
        assert b.poll() is None, "B committed while A, which took its number first, had not: " + str(b.communicate())
    assert seen == [], "nothing is visible before A commits, so nothing later can be passed over"
    (tmp_path / "a-go").touch()
    out_a, err_a = a.communicate(timeout=60)
    out_b, err_b = b.communicate(timeout=60)
    assert a.returncode == 0 and "A committed" in out_a, err_a
    assert b.returncode == 0 and f"B committed {start + 2}" in out_b, err_b
    assert [row for row in _entries(connect) if row[0] > start] == [
        (start + 1, "updated", "first"),
        (start + 2, "updated", "second"),
    ]
