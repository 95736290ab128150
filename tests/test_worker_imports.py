"""What a gunicorn worker imports to serve the API: modules needed only on a rare path stay out of its memory.

A worker imports the settings' apps and the URLconf (every view module) at start-up. The gazetteer's data package
(countrystatecity_countries, with pydantic: about 7 MB of RSS per worker) is needed only by the GeoJSON format when
it places a facility, so deals/gazetteer.py imports it there. This runs a fresh interpreter, because the test
process itself has imported everything already.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# Loaded in a worker only when a rare path needs them.
LAZY = ("countrystatecity_countries", "pydantic")

_PROBE = """
import json, sys
import django
django.setup()
import reexapi.urls
from django.urls import resolve
resolve("/api/v1/facilities/")
loaded = [name for name in sys.argv[1:] if name in sys.modules]
from deals.gazetteer import place_point
point = place_point(country="CA", region_code="CA-QC", region="Quebec")
print("PROBE " + json.dumps({"at_start": loaded, "after_lookup": [n for n in sys.argv[1:] if n in sys.modules],
                             "place": point.place}))
"""


def _probe() -> dict:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "reexapi.settings"}
    result = subprocess.run(
        [sys.executable, "-c", _PROBE, *LAZY], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    line = next(line for line in result.stdout.splitlines() if line.startswith("PROBE "))
    return json.loads(line.removeprefix("PROBE "))


def test_the_urlconf_does_not_import_the_gazetteer_data_package():
    probe = _probe()
    assert probe["at_start"] == []
    # The lookup still works, importing the package when it is first needed.
    assert probe["place"] == "Quebec"
    assert set(probe["after_lookup"]) == set(LAZY)
