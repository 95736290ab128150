"""Smoke tests: factories build valid records, and docs/data-model.md stays accurate to deals/models/."""

import hashlib
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.db import models
from django_countries.fields import CountryField
from simple_history.models import HistoricalChanges

from deals.text import text_normalise
from tests.factories import DealPartyFactory, EvidenceFactory

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "data-model.md"


@pytest.mark.django_db
def test_factories_build_valid_records():
    party = DealPartyFactory()
    evidence = EvidenceFactory(deal=party.deal)
    evidence.full_clean()
    party.deal.full_clean()
    assert evidence.source.text[evidence.start : evidence.end] == evidence.quote


# --- docs/data-model.md ------------------------------------------------------------------------------------------


def _dataset_models() -> list[type[models.Model]]:
    return [m for m in apps.get_app_config("deals").get_models() if not issubclass(m, HistoricalChanges)]


def _documented_fields(model) -> list[models.Field]:
    """Concrete and many-to-many fields, as the field tables list them (no id, no reverse relations)."""
    return [f for f in model._meta.get_fields() if not (f.auto_created and not f.concrete) and not f.primary_key]


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def sections(doc) -> dict[str, str]:
    """The doc's second-level sections, keyed by heading."""
    parts = re.split(r"^## (.+)$", doc, flags=re.MULTILINE)
    return {heading.strip(): body for heading, body in zip(parts[1::2], parts[2::2], strict=True)}


FIELD_TABLE_HEADER = "| Field | Type | Required | Meaning |"


def _field_table(body: str) -> dict[str, str]:
    """The rows of a section's field table (the one under FIELD_TABLE_HEADER), keyed by the quoted field name."""
    lines = body.splitlines()
    assert FIELD_TABLE_HEADER in lines
    rows: dict[str, str] = {}
    for line in lines[lines.index(FIELD_TABLE_HEADER) + 2 :]:
        if not line.startswith("|"):
            break
        rows[line.split("|")[1].strip()] = line
    return rows


@pytest.mark.parametrize("model", _dataset_models(), ids=lambda m: m.__name__)
def test_every_model_has_a_section_with_every_field_and_its_help_text(sections, model):
    assert model.__name__ in sections, f"docs/data-model.md has no '## {model.__name__}' section"
    body = sections[model.__name__]
    rows = _field_table(body)
    for field in _documented_fields(model):
        row = rows.get(f"`{field.name}`")
        assert row is not None, f"{model.__name__}.{field.name} is missing from its field table"
        assert str(field.help_text).replace("|", "\\|") in row, f"{model.__name__}.{field.name}: stale help text"
    assert "**Example" in body, f"the {model.__name__} section has no example"


@pytest.mark.parametrize("model", _dataset_models(), ids=lambda m: m.__name__)
def test_every_choice_is_listed_with_its_meaning(doc, sections, model):
    # Model-specific choices are listed in the model's section; the shared date precisions and value qualifiers
    # once, under Conventions.
    for field in _documented_fields(model):
        if not field.choices or isinstance(field, CountryField):
            continue
        shared = field.name.endswith("_qualifier") or (
            field.name.endswith("_precision") and field.name != "location_precision"
        )
        where = sections["Conventions"] if shared else sections[model.__name__]
        for value, label in field.choices:
            lines = [line for line in where.splitlines() if line.startswith(f"| `{value}` |")]
            assert any(str(label) in line for line in lines), f"{model.__name__}.{field.name}: {value} ({label})"


def test_every_constraint_is_documented_with_its_message(sections):
    body = sections["Constraints and validation rules"]
    for model in _dataset_models():
        for constraint in model._meta.constraints:
            rows = [line for line in body.splitlines() if line.startswith(f"| `{constraint.name}` |")]
            assert rows, f"{constraint.name} is not in the constraints table"
            if constraint.violation_error_message != constraint.default_violation_error_message:
                assert str(constraint.violation_error_message) in rows[0]


def test_the_evidence_example_is_a_real_quote_at_its_offsets(sections):
    body = sections["Evidence"]
    quote = re.search(r"^\| `quote` \| ([^|]+) \|$", body, flags=re.MULTILINE).group(1)
    start, end = map(int, re.search(r"^\| `start` / `end` \| `(\d+)` / `(\d+)` \|$", body, flags=re.MULTILINE).groups())
    raw = (ROOT / "fixtures" / "sources" / "002_1378f9fcc0f36e98.txt").read_bytes()
    assert text_normalise(raw.decode("utf-8"))[start:end] == quote


def test_the_source_example_digests_are_those_of_the_raw_file(sections):
    body = sections["Source"]
    raw = (ROOT / "fixtures" / "sources" / "000_f11ad8fbfb134859.txt").read_bytes()
    text = text_normalise(raw.decode("utf-8"))
    assert f"`{hashlib.sha256(raw).hexdigest()}`" in body
    assert f"`{hashlib.sha256(text.encode('utf-8')).hexdigest()}` ({len(text):,} characters)" in body
