"""``manage.py verify_source_text FILE --source SLUG``: a reader's own copy of an article checked against our
digests and every published quote at its offsets, with the real seed documents (fixtures/sources/, broken
encoding and all) and tampered copies of them."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from deals import models
from deals.selectors.records import evidence_public

SOURCES = Path(settings.BASE_DIR) / "fixtures" / "sources"
SEEDS = {
    "reex-2025-08-22-us-battery-firms-heading-overseas": "000_f11ad8fbfb134859.txt",
    "trendpulse-2025-11-22-us-rare-earths-revival": "001_9eafdd6feff3cd7e.txt",
    "rare-earth-update-2025-09-08-12": "002_1378f9fcc0f36e98.txt",
}
UPDATE = "rare-earth-update-2025-09-08-12"


@pytest.fixture
def loaded(db):
    call_command("load_dataset", stdout=StringIO())


def verify(path: Path, slug: str) -> tuple[int, str]:
    """Run the command; (exit status, stdout + the error's message)."""
    out = StringIO()
    try:
        call_command("verify_source_text", str(path), "--source", slug, stdout=out)
    except CommandError as exc:
        return exc.returncode, out.getvalue() + f"ERROR {exc}"
    return 0, out.getvalue()


def published_quotes(slug: str) -> int:
    return evidence_public().filter(source__slug=slug).count()


@pytest.mark.django_db
def test_every_seed_document_as_received_matches_its_source(loaded):
    for slug, name in SEEDS.items():
        status, out = verify(SOURCES / name, slug)
        assert status == 0, out
        count = published_quotes(slug)
        assert count > 0
        assert "raw_sha256   match" in out and "text_sha256  match" in out
        assert f"{count} of {count} published quote(s) match at their offsets" in out
        assert out.rstrip().endswith(f"matches source {slug!r}: the normalised text and every published quote.")
    # The seeds really arrived broken: the check works on the raw bytes, mojibake and all.
    assert "\u0e22\u0e09".encode() in (SOURCES / SEEDS[UPDATE]).read_bytes()  # "ยฉ": a "©" read as cp874


@pytest.mark.django_db
def test_a_tampered_copy_fails_and_names_the_quote_and_the_digests(loaded, tmp_path):
    raw = (SOURCES / SEEDS[UPDATE]).read_bytes()
    assert raw.count(b"$223 million") == 1
    tampered = tmp_path / "tampered.txt"
    tampered.write_bytes(raw.replace(b"$223 million", b"$233 million"))
    status, out = verify(tampered, UPDATE)
    assert status == 1
    source = models.Source.objects.get(slug=UPDATE)
    assert f"raw_sha256   differs  ours {source.raw_sha256}, your file " in out
    assert f"text_sha256  differs  ours {source.text_sha256}, your file's " in out
    differing = [line for line in out.splitlines() if line.startswith("quote #")]
    affected = evidence_public().filter(source=source, quote__contains="$223 million")
    assert len(differing) == affected.count() > 0
    assert any("(deal 'js-link-223m-columbus-ndfeb-magnet-plant')" in line for line in differing)
    assert all("not found anywhere in your file" in line for line in differing)
    total = published_quotes(UPDATE)
    assert f"{total - affected.count()} of {total} published quote(s) match" in out
    assert f"ERROR {tampered} does not match source {UPDATE!r}: text_sha256, {affected.count()} quote(s) differ." in out


@pytest.mark.django_db
def test_a_clean_copy_of_the_article_matches_although_its_bytes_differ(loaded, tmp_path):
    """The article saved by another tool: correct UTF-8 instead of the mojibake we received, Windows line endings,
    trailing spaces. Its bytes differ, its normalised text is ours: every quote checks."""
    source = models.Source.objects.get(slug=UPDATE)
    clean = tmp_path / "clean.txt"
    clean.write_bytes(("\r\n".join(line + "  " for line in source.text.split("\n")) + "\r\n").encode("utf-8"))
    status, out = verify(clean, UPDATE)
    assert status == 0, out
    assert "raw_sha256   differs" in out and "text_sha256  match" in out


@pytest.mark.django_db
def test_a_copy_with_extra_text_at_the_top_reports_where_each_quote_is(loaded, tmp_path):
    shifted = tmp_path / "shifted.txt"
    shifted.write_bytes(b"Reprinted with permission.\n\n" + (SOURCES / SEEDS[UPDATE]).read_bytes())
    status, out = verify(shifted, UPDATE)
    assert status == 1
    first = evidence_public().filter(source__slug=UPDATE).order_by("start", "end", "pk").first()
    offset = len("Reprinted with permission.\n\n")
    line = next(line for line in out.splitlines() if line.startswith(f"quote #{first.pk} "))
    assert f"found in your file at {first.start + offset}-{first.end + offset}" in line
    assert "… and " in out  # more than ten differ: the rest are counted, not listed


@pytest.mark.django_db
def test_quotes_of_unpublished_records_are_not_checked(loaded):
    total = published_quotes(UPDATE)
    deal = models.Deal.objects.filter(evidence__source__slug=UPDATE).distinct().first()
    own = deal.evidence.count()
    models.Deal.objects.filter(pk=deal.pk).update(publication_status=models.PublicationStatus.DRAFT)
    status, out = verify(SOURCES / SEEDS[UPDATE], UPDATE)
    assert status == 0
    assert f"{total - own} of {total - own} published quote(s)" in out


@pytest.mark.django_db
def test_bad_input_is_a_clear_error_with_status_2(loaded, tmp_path):
    status, out = verify(SOURCES / SEEDS[UPDATE], "no-such-source")
    assert status == 2
    assert "No source with slug 'no-such-source'. Known sources: rare-earth-update-2025-09-08-12, " in out
    status, out = verify(tmp_path / "missing.txt", UPDATE)
    assert status == 2 and f"FILE {tmp_path / 'missing.txt'} does not exist" in out
    status, out = verify(tmp_path, UPDATE)
    assert status == 2 and "is a directory" in out


@pytest.mark.django_db
def test_a_copy_that_is_not_utf8_is_a_difference_named_as_such(loaded, tmp_path):
    latin1 = tmp_path / "latin1.txt"
    latin1.write_bytes("Caf\u00e9 ".encode("latin-1") + (SOURCES / SEEDS[UPDATE]).read_bytes())
    status, out = verify(latin1, UPDATE)
    assert status == 1
    assert "the file is not UTF-8 (byte 3: invalid continuation byte)" in out
