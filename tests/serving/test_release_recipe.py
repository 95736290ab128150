"""docs/data.md's bulk recipe, run as written against a live gunicorn server: ``manage.py dataset_release`` in its
own process, then the curl download of the latest release and ``sha256sum -c``; and a second release with nothing
changed exits 1 with its message."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from tests.serving.servers import manage, server_env, start_gunicorn

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def _recipe() -> str:
    """The doc's first bash block (the download recipe)."""
    text = DOC.read_text(encoding="utf-8")
    return re.search(r"## Download the latest release and check it\n\n```bash\n(.*?)```", text, re.S).group(1)


@pytest.fixture(scope="module")
def server(served_url, static_collected):
    live = start_gunicorn(env=server_env(DATABASE_URL=served_url))
    try:
        yield live
    finally:
        live.stop()


def test_the_curl_recipe_downloads_the_latest_release_and_its_checksums_pass(server, tmp_path):
    env = server.env
    made = manage("dataset_release", "--base-url", f"http://127.0.0.1:{server.port}", env=env, check=False)
    # The served database may already hold a release of this very state (another test of the session made it).
    assert made.returncode == 0 or "Nothing changed since release" in made.stderr, made.stderr
    assert server.get("/api/v1/releases/latest/").status == 302
    script = _recipe().replace("http://127.0.0.1:8000", f"http://127.0.0.1:{server.port}")
    assert "sha256sum -c checksums.sha256" in script
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    (directory,) = tmp_path.iterdir()
    latest = json.loads(server.get("/api/v1/releases/").body)["latest"]["version"]
    assert directory.name == f"reexapi-{latest}"
    names = {p.name for p in directory.iterdir()}
    assert {"datapackage.json", "records.jsonl", "CHANGES.json", "deals.csv", "evidence.csv"} <= names
    assert result.stdout.count(": OK") == len(names) - 1  # every file but checksums.sha256 itself
    package = json.loads((directory / "datapackage.json").read_text(encoding="utf-8"))
    assert package["version"] == latest


def test_a_release_with_nothing_changed_exits_1(server):
    manage("dataset_release", env=server.env, check=False)
    again = manage("dataset_release", env=server.env, check=False)
    assert again.returncode == 1
    assert "Nothing changed since release" in again.stderr
