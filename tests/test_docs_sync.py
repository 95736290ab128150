"""The sync recipe in docs/data.md ("Keep a local copy in sync") works: run against a live server, it builds a copy
of the published records, then applies an edit, a rename, a withdrawal and a merge, and a third run applies
nothing."""

import json
import re
from pathlib import Path

import pytest
from django.conf import settings

from deals.services.publication import record_merge, record_withdraw
from tests.factories import CompanyFactory, DealFactory

DOC = Path(settings.BASE_DIR) / "docs" / "data.md"


def _script() -> dict:
    text = DOC.read_text(encoding="utf-8")
    block = re.search(r"<!-- sync-script:.*?-->\n```python\n(.*?)\n```", text, re.S)
    assert block, "docs/data.md lost its sync script"
    namespace = {"__name__": "sync"}
    exec(compile(block.group(1), str(DOC), "exec"), namespace)  # noqa: S102 - our own documentation's code
    return namespace


def _copy(root: Path) -> dict:
    return {f"{p.parent.name}/{p.stem}": json.loads(p.read_text()) for p in sorted(root.glob("*/*.json"))}


@pytest.mark.django_db(transaction=True)
def test_the_documented_script_keeps_a_copy_in_sync(live_server, tmp_path):
    sync = _script()["sync"]
    api = f"{live_server.url}/api/v1/"
    acme = CompanyFactory(slug="acme")
    edited, renamed, gone, twin = (DealFactory(slug=s) for s in ("edited", "renamed", "gone", "twin"))
    DealFactory(slug="draft", publication_status="draft")
    assert sync(api, tmp_path) == 5
    assert sorted(_copy(tmp_path)) == ["companies/acme", "deals/edited", "deals/gone", "deals/renamed", "deals/twin"]
    assert (tmp_path / "cursor").read_text() == "5"

    edited.title = "Edited title"
    edited.save()
    renamed.slug = "renamed-again"
    renamed.save()
    record_withdraw(record=gone, reason="Never happened.")
    record_merge(duplicate=twin, survivor=edited)
    acme.name = "Acme Corp"
    acme.save()
    assert sync(api, tmp_path) > 0
    copy = _copy(tmp_path)
    assert sorted(copy) == ["companies/acme", "deals/edited", "deals/renamed-again"]
    assert copy["deals/edited"]["title"] == "Edited title" and copy["companies/acme"]["name"] == "Acme Corp"
    assert sync(api, tmp_path) == 0
