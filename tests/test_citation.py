"""The licence files and CITATION.cff: present, consistent with deals/licensing.py, and CITATION.cff valid against
the official Citation File Format 1.2.0 JSON schema (tests/data/, as shipped by cffconvert 2.0.0)."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import yaml

from deals.citation import citation_authors_get, citation_metadata_get
from deals.licensing import CODE_LICENSE, DATASET_LICENSE

ROOT = Path(__file__).resolve().parent.parent
SCHEMA = json.loads((Path(__file__).parent / "data" / "citation-file-format-1.2.0.schema.json").read_text())


def test_citation_cff_is_valid_cff_1_2_0():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    jsonschema.Draft7Validator(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(citation)
    assert citation["cff-version"] == "1.2.0"


def test_the_validator_rejects_a_broken_citation():
    citation = yaml.safe_load((ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    del citation["authors"]
    citation["license"] = "CC-BY-4"
    errors = list(jsonschema.Draft7Validator(SCHEMA).iter_errors(citation))
    assert len(errors) == 2


def test_citation_names_the_dataset_licence():
    meta = citation_metadata_get()
    assert meta["type"] == "dataset"
    assert meta["license"] == DATASET_LICENSE["id"]
    assert citation_authors_get() == ["ReexAPI editors"]


def test_licence_files():
    code = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in code and "Version 2.0, January 2004" in code and CODE_LICENSE["id"] == "Apache-2.0"
    data = (ROOT / "LICENSE-DATA").read_text(encoding="utf-8")
    assert DATASET_LICENSE["url"] in data
    assert "Attribution 4.0 International Public License" in data
    # The scope: source articles stay their publishers' property.
    assert "Not covered: the source articles themselves" in data
