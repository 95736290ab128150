"""``Source.redistribution_licensed`` in the fixtures: left out when false (so the committed fixtures stay byte for
byte what export_dataset writes), written as ``redistribution_licensed: true`` when an editor ticked it, loaded
back, and never undone by another load."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command

from deals import models
from tests.test_export import FIXTURES, export, wipe

SLUG = "trendpulse-2025-11-22-us-rare-earths-revival"


@pytest.mark.django_db
def test_the_flag_round_trips_through_export_and_load_and_survives_a_reload(tmp_path):
    call_command("load_dataset", stdout=StringIO())
    assert not models.Source.objects.filter(redistribution_licensed=True).exists()
    assert "redistribution_licensed" not in (FIXTURES / "dataset" / "sources.yaml").read_text(encoding="utf-8")

    # An editor ticks it in the admin (any committed write will do); a later load keeps the editor's value.
    source = models.Source.objects.get(slug=SLUG)
    source.redistribution_licensed = True
    source.save()
    call_command("load_dataset", stdout=StringIO())
    assert models.Source.objects.get(slug=SLUG).redistribution_licensed is True

    export(tmp_path / "dataset")
    exported = (tmp_path / "dataset" / "sources.yaml").read_text(encoding="utf-8")
    entries = exported.split("\n- slug: ")
    [licensed] = [entry for entry in entries if entry.startswith(SLUG)]
    assert "\n  redistribution_licensed: true\n" in licensed
    assert exported.count("redistribution_licensed") == 1

    wipe()
    call_command("load_dataset", "--path", str(tmp_path / "dataset"), stdout=StringIO())
    flags = dict(models.Source.objects.values_list("slug", "redistribution_licensed"))
    assert flags.pop(SLUG) is True
    assert set(flags.values()) == {False}
