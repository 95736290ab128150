"""Smoke test: factories build valid, constraint-satisfying records on every database."""

import pytest

from tests.factories import DealPartyFactory, EvidenceFactory


@pytest.mark.django_db
def test_factories_build_valid_records():
    party = DealPartyFactory()
    evidence = EvidenceFactory(deal=party.deal)
    evidence.full_clean()
    party.deal.full_clean()
    assert evidence.source.text[evidence.start : evidence.end] == evidence.quote
