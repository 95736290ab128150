"""Facility.region_code: an ISO 3166-2 code of the facility's own country, for a stated region (clean() and the
loader say which rule is broken; the database constraint is in tests/test_constraints.py)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from deals.models import Facility
from deals.models.facility import region_code_problem
from tests.factories import FacilityFactory


@pytest.mark.parametrize(
    ("country", "region", "code", "message"),
    [
        ("US", "Georgia", "US-GA", None),
        ("CA", "Quebec", "CA-QC", None),
        ("US", "", "", None),
        ("", "Georgia", "US-GA", "A region code needs the facility's country."),
        ("CA", "Georgia", "US-GA", "'US-GA' is not a region of CA: its ISO 3166-2 codes start with 'CA-'."),
        ("US", "Atlantis", "US-ZZ", "'US-ZZ' is not an ISO 3166-2 subdivision code (e.g. US-GA for Georgia, CA-QC"),
        ("US", "", "US-GA", "A region code encodes a stated region: fill in the region as the source states it."),
    ],
)
def test_region_code_problem(country, region, code, message):
    problem = region_code_problem(region_code=code, country=country, region=region)
    if message is None:
        assert problem is None
    else:
        assert problem is not None and problem.startswith(message)


@pytest.mark.django_db
def test_clean_names_region_code():
    facility = Facility(name="Plant", slug="plant", kind="magnet", country="CA", region="Georgia", region_code="US-GA")
    with pytest.raises(ValidationError) as excinfo:
        facility.full_clean()
    assert excinfo.value.message_dict["region_code"] == [
        "'US-GA' is not a region of CA: its ISO 3166-2 codes start with 'CA-'."
    ]


@pytest.mark.django_db
def test_clean_accepts_a_code_of_the_country():
    FacilityFactory.build(country="US", region="Georgia", region_code="US-GA").full_clean()
