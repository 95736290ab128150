"""The models' clean() rules and full_clean(): every rule raises a ValidationError keyed by the field at fault.

Database constraints are covered write by write in tests/test_constraints.py; here ``full_clean()`` must report
the same rules as ValidationErrors carrying each constraint's own message (Django 5 runs
``validate_constraints()`` inside ``full_clean()``), so an editor or API client gets a 4xx, never a 500.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError

from deals.models import Commodity, Company, DatePrecision, Deal, DealParty, Evidence, Facility, FacilityCompany, Source
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
)

pytestmark = pytest.mark.django_db


def _errors(instance, *, method: str = "clean") -> dict[str, list[str]]:
    """Run ``clean()`` (or ``full_clean()``) and return its errors by field; fails if nothing is raised."""
    with pytest.raises(ValidationError) as excinfo:
        getattr(instance, method)()
    return excinfo.value.message_dict


def _constraint_message(model, name: str) -> str:
    (constraint,) = [c for c in model._meta.constraints if c.name == name]
    return constraint.violation_error_message


# --- Evidence -------------------------------------------------------------------------------------------------------


def _evidence(source: Source, quote: str, *, occurrence_start: int | None = None, **values) -> Evidence:
    start = source.text.index(quote) if occurrence_start is None else occurrence_start
    defaults = {"deal": DealFactory(), "fields": ["title"]}
    defaults.update(values)
    return Evidence(source=source, quote=quote, start=start, end=start + len(quote), **defaults)


def test_evidence_matching_quote_is_clean():
    source = SourceFactory()
    evidence = _evidence(source, "Acme Magnets signed a $10 million offtake")
    evidence.full_clean()
    evidence.save()
    assert source.text[evidence.start : evidence.end] == evidence.quote


def test_evidence_quote_must_equal_the_text_between_the_offsets():
    source = SourceFactory()
    evidence = _evidence(source, "Acme Magnets signed a $10 million offtake")
    evidence.quote = "Acme Magnets signed a $12 million offtake"
    errors = _errors(evidence)
    assert list(errors) == ["quote"]
    assert "does not match" in errors["quote"][0]
    assert "$10 million" in errors["quote"][0]  # the message shows what the source really has


def test_evidence_offsets_one_character_off_are_refused():
    source = SourceFactory()
    evidence = _evidence(source, "Beta Metals")
    evidence.start += 1
    evidence.end += 1
    assert list(_errors(evidence)) == ["quote"]


def test_evidence_curly_versus_straight_quote_is_a_mismatch():
    # quote_locate forgives typography when *finding* a quote; the stored quote must be the source's own text.
    source = SourceFactory(text="The plant’s capacity is 3,000 tonnes.")
    evidence = _evidence(source, "The plant’s capacity")
    evidence.full_clean()
    evidence.quote = "The plant's capacity"
    assert list(_errors(evidence)) == ["quote"]


def test_evidence_end_past_the_text_is_refused_naming_end():
    source = SourceFactory()
    tail = source.text[-10:]
    evidence = _evidence(source, tail)
    evidence.full_clean()
    evidence.end = len(source.text) + 1
    errors = _errors(evidence)
    assert list(errors) == ["end"]
    assert f"({len(source.text)} characters)" in errors["end"][0]


def test_evidence_fields_must_name_fields_of_the_target():
    source = SourceFactory()
    evidence = _evidence(source, "Beta Metals", fields=["amount", "parties", "headcount", "valuation"])
    errors = _errors(evidence)
    assert errors == {"fields": ["Not fields of deal: headcount, valuation."]}


@pytest.mark.parametrize(
    ("target", "good", "bad"),
    [
        ("company", ["name", "kind", "country", "aliases"], "amount"),
        ("facility", ["capacity_amount", "jobs", "planned_start", "companies"], "deal_type"),
        ("deal", ["amount", "currency", "announced_date", "parties", "stages"], "capacity_amount"),
    ],
)
def test_evidence_fields_are_checked_against_the_right_model(target, good, bad):
    source = SourceFactory()
    factory = {"deal": DealFactory, "company": CompanyFactory, "facility": FacilityFactory}[target]
    values = {"deal": None, target: factory(), "fields": good}
    evidence = _evidence(source, "Beta Metals", **values)
    evidence.full_clean()
    evidence.fields = [*good, bad]
    assert _errors(evidence) == {"fields": [f"Not fields of {target}: {bad}."]}


@pytest.mark.parametrize("fields", ["amount", {"amount": True}, ["amount", 3], None])
def test_evidence_fields_must_be_a_list_of_strings(fields):
    evidence = _evidence(SourceFactory(), "Beta Metals", fields=fields)
    errors = _errors(evidence)
    assert errors["fields"] == ["Fields must be a list of field names."]


def test_evidence_without_source_does_not_crash_clean():
    evidence = Evidence(deal=DealFactory(), quote="Beta Metals", start=0, end=11, fields=["title"])
    evidence.clean()  # nothing to compare the quote with: no error, and no crash
    errors = _errors(evidence, method="full_clean")
    assert "source" in errors


def test_evidence_with_an_unknown_source_id_is_a_validation_error_not_a_crash():
    source = SourceFactory()
    evidence = _evidence(source, "Beta Metals")
    evidence.source_id = source.pk + 1000
    errors = _errors(evidence, method="full_clean")
    assert "source" in errors
    assert "quote" not in errors


def test_evidence_with_non_numeric_offsets_is_a_validation_error_not_a_crash():
    evidence = _evidence(SourceFactory(), "Beta Metals")
    evidence.start = "twelve"
    errors = _errors(evidence, method="full_clean")
    assert "start" in errors
    assert "quote" not in errors


def test_evidence_without_offsets_reports_them_missing():
    evidence = _evidence(SourceFactory(), "Beta Metals")
    evidence.start = evidence.end = None
    errors = _errors(evidence, method="full_clean")
    assert {"start", "end"} <= set(errors)


# --- dates with a precision -----------------------------------------------------------------------------------------

DATED = [
    (SourceFactory, "published_date"),
    (DealFactory, "announced_date"),
    (FacilityFactory, "planned_start"),
]


@pytest.mark.parametrize(("factory", "field"), DATED, ids=[f for _, f in DATED])
@pytest.mark.parametrize(
    ("precision", "good", "bad", "message"),
    [
        ("month", datetime.date(2025, 8, 1), datetime.date(2025, 8, 22), "first day of the month"),
        ("year", datetime.date(2027, 1, 1), datetime.date(2027, 6, 1), "1 January"),
        ("year", datetime.date(2027, 1, 1), datetime.date(2027, 1, 2), "1 January"),
    ],
)
def test_date_precision_rules(factory, field, precision, good, bad, message):
    instance = factory.build(**{field: good, f"{field}_precision": precision})
    instance.clean()
    setattr(instance, field, bad)
    errors = _errors(instance)
    assert list(errors) == [field]
    assert message in errors[field][0]


@pytest.mark.parametrize(("factory", "field"), DATED, ids=[f for _, f in DATED])
def test_day_precision_allows_any_day(factory, field):
    factory.build(**{field: datetime.date(2025, 8, 22), f"{field}_precision": DatePrecision.DAY}).clean()


@pytest.mark.parametrize(("factory", "field"), DATED, ids=[f for _, f in DATED])
def test_an_invalid_date_is_reported_on_its_field_not_a_crash(factory, field):
    instance = factory.build(**{field: "2025-13-45", f"{field}_precision": DatePrecision.MONTH})
    errors = _errors(instance, method="full_clean")
    assert field in errors


@pytest.mark.parametrize(
    ("model", "factory", "field", "constraint"),
    [
        (Source, SourceFactory, "published_date", "source_published_date_precision_together"),
        (Deal, DealFactory, "announced_date", "deal_announced_date_precision_together"),
        (Facility, FacilityFactory, "planned_start", "facility_planned_start_precision_together"),
    ],
)
def test_full_clean_reports_a_date_without_precision_on_the_precision(model, factory, field, constraint):
    # The editor sees the rule on the field to fill; the database constraint holds it with its own message.
    instance = factory.build(**{field: datetime.date(2025, 8, 1), f"{field}_precision": ""})
    errors = _errors(instance, method="full_clean")
    assert errors == {
        f"{field}_precision": ["A date needs its precision: day, month or year, as the source states it."]
    }
    with pytest.raises(ValidationError) as excinfo:
        instance.validate_constraints()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [_constraint_message(model, constraint)]


@pytest.mark.parametrize(("factory", "field"), DATED, ids=[f for _, f in DATED])
def test_a_precision_without_a_date_is_reported_on_the_precision(factory, field):
    errors = _errors(factory.build(**{field: None, f"{field}_precision": "day"}))
    assert errors == {
        f"{field}_precision": ["A precision goes with a date: enter the date, or leave the precision empty."]
    }


def test_js_link_columbus_plant_is_clean():
    # The seed's example: 3,000 tonnes per year, 500+ jobs, opening in 2027 (year precision), $223 million.
    facility = FacilityFactory.build(
        name="JS Link NdFeB magnet plant",
        region="Georgia",
        locality="Columbus",
        location_precision=Facility.LocationPrecision.LOCALITY,
        capacity_amount=Decimal("3000"),
        capacity_unit="tonnes",
        capacity_period=Facility.CapacityPeriod.YEAR,
        capacity_qualifier="exact",
        planned_start=datetime.date(2027, 1, 1),
        planned_start_precision=DatePrecision.YEAR,
        jobs=500,
        jobs_qualifier="at_least",
        investment_amount=Decimal("223000000"),
        investment_currency="USD",
    )
    facility.full_clean()


def test_facility_coordinates_need_a_location_precision():
    facility = FacilityFactory.build(latitude=Decimal("32.46"), longitude=Decimal("-84.99"))
    errors = _errors(facility)
    assert errors == {"location_precision": ["Coordinates need a location precision."]}
    facility.location_precision = Facility.LocationPrecision.EXACT
    facility.clean()


def test_facility_capacity_needs_a_period():
    facility = FacilityFactory.build(capacity_amount=Decimal("3000"), capacity_unit="tonnes")
    assert _errors(facility) == {"capacity_period": ["A capacity needs a period (per year, month or day)."]}
    facility.capacity_period = Facility.CapacityPeriod.YEAR
    facility.clean()


def test_facility_jobs_qualifier_needs_jobs():
    facility = FacilityFactory.build(jobs=None, jobs_qualifier="at_least")
    assert _errors(facility) == {"jobs_qualifier": ["A jobs qualifier needs a jobs figure."]}
    facility.jobs = 500
    facility.clean()


def test_facility_clean_with_every_optional_value_empty():
    facility = FacilityFactory.build(
        latitude=None, longitude=None, capacity_amount=None, jobs=None, planned_start=None, investment_amount=None
    )
    facility.full_clean()


def test_facility_clean_reports_several_fields_at_once():
    facility = FacilityFactory.build(
        latitude=Decimal("1"),
        longitude=Decimal("1"),
        capacity_amount=Decimal("1"),
        capacity_unit="t",
        jobs_qualifier="approximate",
        planned_start=datetime.date(2027, 3, 1),
        planned_start_precision=DatePrecision.YEAR,
    )
    assert set(_errors(facility)) == {"location_precision", "capacity_period", "jobs_qualifier", "planned_start"}


@pytest.mark.parametrize(
    ("values", "constraint", "field", "message"),
    [
        (
            {"latitude": Decimal("91"), "longitude": Decimal("0")},
            "facility_latitude_range",
            "latitude",
            "Latitude must lie between -90 and 90.",
        ),
        (
            {"latitude": Decimal("0"), "longitude": Decimal("-181")},
            "facility_longitude_range",
            "longitude",
            "Longitude must lie between -180 and 180.",
        ),
        (
            {"latitude": Decimal("10"), "longitude": None},
            "facility_coordinates_together",
            "longitude",
            "Coordinates come in pairs: enter the longitude too, or leave the latitude empty.",
        ),
        (
            {"capacity_amount": Decimal("3000"), "capacity_unit": ""},
            "facility_capacity_nonnegative_with_unit",
            "capacity_unit",
            "A capacity needs its unit, e.g. tonnes.",
        ),
        (
            {"investment_amount": Decimal("223000000"), "investment_currency": ""},
            "facility_investment_nonnegative_with_currency",
            "investment_currency",
            "An investment needs its currency: enter the ISO 4217 code, e.g. USD.",
        ),
    ],
)
def test_full_clean_reports_facility_constraints_on_their_field(values, constraint, field, message):
    period = "year" if "capacity_amount" in values else ""
    facility = FacilityFactory.build(location_precision="exact", capacity_period=period, **values)
    errors = _errors(facility, method="full_clean")
    assert errors == {field: [message]}
    # The database's constraint holds the same rule, with its own message, for writes that skip full_clean().
    with pytest.raises(ValidationError) as excinfo:
        facility.validate_constraints()
    assert _constraint_message(Facility, constraint) in excinfo.value.message_dict[NON_FIELD_ERRORS]


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"capacity_period": "year"}, "capacity_period"),
        ({"capacity_qualifier": "up_to"}, "capacity_qualifier"),
        ({"investment_currency": "USD"}, "investment_currency"),
        ({"investment_qualifier": "approximate"}, "investment_qualifier"),
    ],
)
def test_facility_figure_descriptions_without_the_figure_are_reported_on_their_field(values, field):
    facility = FacilityFactory.build(capacity_amount=None, investment_amount=None, **values)
    errors = _errors(facility)
    assert list(errors) == [field]
    assert "leave this empty" in errors[field][0]


# --- Deal -----------------------------------------------------------------------------------------------------------


def test_group14_round_is_clean():
    deal = DealFactory.build(
        title="Group14 Technologies raises $463M led by SK Inc.",
        deal_type=Deal.Type.EQUITY_FUNDING,
        status=Deal.Status.CLOSED,
        announced_date=datetime.date(2025, 8, 22),
        announced_date_precision=DatePrecision.DAY,
        amount=Decimal("463000000"),
        currency="USD",
        amount_usd=Decimal("463000000"),
        value_qualifier="exact",
        countries=["US", "KR"],
    )
    deal.full_clean()


def test_deal_usd_amount_must_equal_the_amount_for_usd_deals():
    deal = DealFactory.build(amount=Decimal("463000000"), currency="USD", amount_usd=Decimal("436000000"))
    assert _errors(deal) == {"amount_usd": ["For a USD deal the USD amount equals the amount."]}


def test_deal_usd_amount_may_differ_for_other_currencies_and_may_be_empty():
    DealFactory.build(amount=Decimal("100"), currency="EUR", amount_usd=Decimal("117")).clean()
    DealFactory.build(amount=Decimal("100"), currency="USD", amount_usd=None).clean()
    DealFactory.build(amount=Decimal("100.00"), currency="USD", amount_usd=Decimal("100")).clean()


@pytest.mark.parametrize("status", [Deal.Status.SIGNED, Deal.Status.CLOSED])
def test_an_mou_cannot_be_signed_or_closed(status):
    deal = DealFactory.build(deal_type=Deal.Type.MOU, status=status)
    errors = _errors(deal)
    assert list(errors) == ["status"]
    assert "non-binding" in errors["status"][0]


@pytest.mark.parametrize("status", [Deal.Status.NON_BINDING, Deal.Status.ANNOUNCED, Deal.Status.TERMINATED])
def test_an_mou_may_be_non_binding_announced_or_terminated(status):
    DealFactory.build(deal_type=Deal.Type.MOU, status=status).clean()


def test_a_binding_deal_type_may_be_signed():
    DealFactory.build(deal_type=Deal.Type.OFFTAKE, status=Deal.Status.SIGNED).clean()


@pytest.mark.parametrize(
    ("values", "constraint", "field", "message"),
    [
        (
            {"amount": Decimal("10"), "currency": "", "amount_usd": None},
            "deal_amount_nonnegative_with_currency",
            "currency",
            "An amount needs its currency: enter the ISO 4217 code, e.g. USD.",
        ),
        (
            {"amount": None, "currency": "", "amount_usd": None, "value_qualifier": "up_to"},
            "deal_qualifier_needs_amount",
            "value_qualifier",
            "A value qualifier needs an amount: enter the amount, or leave it empty.",
        ),
        (
            {"amount": None, "currency": "EUR", "amount_usd": None, "value_qualifier": ""},
            "deal_currency_needs_amount",
            "currency",
            "A currency goes with an amount: enter the amount, or leave the currency empty.",
        ),
    ],
)
def test_full_clean_reports_deal_constraints_on_their_field(values, constraint, field, message):
    # A positive amount without a currency is about the currency: the message says nothing of the amount's sign.
    deal = DealFactory.build(**values)
    errors = _errors(deal, method="full_clean")
    assert errors == {field: [message]}
    with pytest.raises(ValidationError) as excinfo:
        deal.validate_constraints()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [_constraint_message(Deal, constraint)]


def test_full_clean_reports_negative_amounts_on_the_fields():
    # Fields that fail their own validation are left out of the constraint checks, so the field errors come alone.
    deal = DealFactory.build(amount=Decimal("-1"), amount_usd=Decimal("-1"))
    errors = _errors(deal, method="full_clean")
    assert errors == {
        "amount": ["Ensure this value is greater than or equal to 0."],
        "amount_usd": ["Ensure this value is greater than or equal to 0."],
    }


def test_validate_constraints_reports_a_negative_usd_amount_with_its_message():
    deal = DealFactory.build(amount_usd=Decimal("-1"))
    with pytest.raises(ValidationError) as excinfo:
        deal.validate_constraints()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [_constraint_message(Deal, "deal_amount_usd_nonnegative")]


def test_full_clean_reports_a_bad_currency_code():
    errors = _errors(DealFactory.build(currency="usd", amount_usd=None), method="full_clean")
    assert errors["currency"] == ["Enter an ISO 4217 currency code, e.g. USD."]


# --- Deal terms (deals/models/deal_terms.py) ------------------------------------------------------------------------
_NO_TERMS = {
    "unit_price": None,
    "unit_price_currency": "",
    "unit_price_unit": "",
    "term_length": None,
    "term_unit": "",
    "output_share_percent": None,
    "output_share_of": "",
    "instrument": "",
}


def test_mp_materials_price_floor_terms_are_clean():
    # "$110 per kilogram of NdPr oxide, for ten years", "100% of the magnets": every group stated as the article does.
    DealFactory.build(terms=True).full_clean()


def test_deal_with_no_terms_stated_is_clean():
    DealFactory.build(**_NO_TERMS).full_clean()


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"unit_price": Decimal("110")},
            {
                "unit_price_currency": ["Enter the currency of the unit price, e.g. USD."],
                "unit_price_unit": ["Choose what the unit price is per, e.g. per kilogram."],
            },
        ),
        (
            {"unit_price": Decimal("110"), "unit_price_currency": "USD"},
            {"unit_price_unit": ["Choose what the unit price is per, e.g. per kilogram."]},
        ),
        (
            {"unit_price": Decimal("0"), "unit_price_currency": "USD", "unit_price_unit": "kg"},
            {"unit_price": ["The unit price must be more than zero."]},
        ),
        (
            {"unit_price_currency": "USD", "unit_price_unit": "kg"},
            {"unit_price": ["Enter the unit price, or clear its currency and unit."]},
        ),
        ({"unit_price_unit": "lb"}, {"unit_price": ["Enter the unit price, or clear its currency and unit."]}),
        ({"term_length": 10}, {"term_unit": ["Choose whether the term is in months or years."]}),
        ({"term_unit": "years"}, {"term_length": ["Enter the length of the term, or clear its unit."]}),
        (
            {"output_share_percent": Decimal("100")},
            {"output_share_of": ["Say what the percentage is a share of, e.g. 'magnets produced at the plant'."]},
        ),
        (
            {"output_share_percent": Decimal("100.5"), "output_share_of": "magnets"},
            {"output_share_percent": ["The share of output must be more than 0 and at most 100 percent."]},
        ),
        (
            {"output_share_percent": Decimal("0"), "output_share_of": "magnets"},
            {"output_share_percent": ["The share of output must be more than 0 and at most 100 percent."]},
        ),
        (
            {"output_share_of": "magnets"},
            {"output_share_percent": ["Enter the percentage, or clear what it is a share of."]},
        ),
    ],
)
def test_full_clean_reports_half_stated_terms_on_their_fields(values, expected):
    # The field errors come alone: the constraint's form-wide message is not shown on top of them.
    deal = DealFactory.build(**{**_NO_TERMS, **values})
    assert _errors(deal, method="full_clean") == expected


def test_full_clean_reports_a_zero_term_on_the_field():
    errors = _errors(DealFactory.build(**{**_NO_TERMS, "term_length": 0, "term_unit": "years"}), method="full_clean")
    assert errors == {"term_length": ["The term must be at least 1."]}


def test_full_clean_reports_a_bad_unit_price_currency_and_unknown_choices():
    deal = DealFactory.build(terms=True, unit_price_currency="usd", unit_price_unit="ounce", instrument="bond")
    errors = _errors(deal, method="full_clean")
    assert errors["unit_price_currency"] == ["Enter an ISO 4217 currency code, e.g. USD."]
    assert errors["unit_price_unit"] == ["Value 'ounce' is not a valid choice."]
    assert errors["instrument"] == ["Value 'bond' is not a valid choice."]
    assert NON_FIELD_ERRORS not in errors


def test_full_clean_reports_a_non_numeric_unit_price_on_the_field_not_a_crash():
    errors = _errors(DealFactory.build(terms=True, unit_price="a lot", term_length="ten"), method="full_clean")
    assert set(errors) == {"unit_price", "term_length"}


@pytest.mark.parametrize("role", [DealParty.Role.LENDER, DealParty.Role.BORROWER])
def test_loan_deal_with_lender_and_borrower_is_clean(role):
    deal = DealFactory(deal_type=Deal.Type.LOAN, instrument=Deal.Instrument.LOAN)
    deal.full_clean()
    DealPartyFactory.build(deal=deal, company=CompanyFactory(), role=role).full_clean()


# --- Company --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("aliases", [[], ["VAC"], ["VAC", "Vacuumschmelze"]])
def test_company_aliases_list_of_strings_is_clean(aliases):
    CompanyFactory.build(aliases=aliases).clean()


@pytest.mark.parametrize("aliases", ["VAC", {"name": "VAC"}, ["VAC", 3], ["VAC", ""], ["  "], None])
def test_company_aliases_must_be_a_list_of_non_empty_strings(aliases):
    errors = _errors(CompanyFactory.build(aliases=aliases))
    assert errors == {"aliases": ["Aliases must be a list of non-empty strings."]}


def test_company_cannot_be_its_own_parent():
    company = CompanyFactory()
    company.parent = company
    assert _errors(company) == {"parent": ["An organisation cannot be its own parent."]}


def test_company_may_have_another_company_as_parent():
    agency = CompanyFactory(kind=Company.Kind.AGENCY, name="U.S. Department of Defense")
    agency.parent = CompanyFactory(kind=Company.Kind.GOVERNMENT, name="United States government")
    agency.full_clean()


def test_company_parent_cycle_is_refused():
    # United States government → U.S. Department of Defense → United States government.
    government = CompanyFactory(kind=Company.Kind.GOVERNMENT, name="United States government")
    agency = CompanyFactory(kind=Company.Kind.AGENCY, name="U.S. Department of Defense", parent=government)
    government.parent = agency
    assert _errors(government, method="full_clean") == {"parent": ["The parent chain loops back to this organisation."]}


def test_company_longer_parent_cycle_is_refused_and_a_chain_is_clean():
    a = CompanyFactory()
    b = CompanyFactory(parent=a)
    c = CompanyFactory(parent=b)
    c.full_clean()  # a chain without a loop
    a.parent = c
    assert _errors(a) == {"parent": ["The parent chain loops back to this organisation."]}


def test_company_clean_stops_at_a_stored_loop_it_is_not_part_of():
    # A loop already in the database (written past clean()) must not make clean() of a row above it spin.
    a, b = CompanyFactory(), CompanyFactory()
    Company.objects.filter(pk=a.pk).update(parent=b)
    Company.objects.filter(pk=b.pk).update(parent=a)
    CompanyFactory(parent=a).full_clean()


def test_commodity_cannot_be_its_own_parent():
    commodity = CommodityFactory()
    commodity.parent = commodity
    assert _errors(commodity, method="full_clean") == {
        "parent": ["The parent chain loops back to this commodity; choose a broader one."]
    }


def test_commodity_parent_cycle_is_refused():
    group = CommodityFactory(kind=Commodity.Kind.GROUP, name="Rare earth elements")
    element = CommodityFactory(kind=Commodity.Kind.ELEMENT, name="Dysprosium", parent=group)
    element.full_clean()
    group.parent = element
    assert _errors(group) == {"parent": ["The parent chain loops back to this commodity; choose a broader one."]}


def test_full_clean_reports_an_empty_company_name_on_the_field():
    errors = _errors(CompanyFactory.build(name=""), method="full_clean")
    assert errors == {"name": ["This field cannot be blank."]}


def test_validate_constraints_reports_an_empty_company_name_with_its_message():
    with pytest.raises(ValidationError) as excinfo:
        CompanyFactory.build(name="").validate_constraints()
    assert excinfo.value.message_dict[NON_FIELD_ERRORS] == [_constraint_message(Company, "company_name_not_empty")]


# --- unique constraints through full_clean() -------------------------------------------------------------------------


def test_full_clean_reports_a_duplicate_slug_on_the_field():
    DealFactory(slug="group14-sk-463m")
    errors = _errors(DealFactory.build(slug="group14-sk-463m"), method="full_clean")
    assert errors["slug"] == ["Deal with this Slug already exists."]


def test_full_clean_reports_a_duplicate_deal_party():
    party = DealPartyFactory(role=DealParty.Role.LEAD_INVESTOR)
    duplicate = DealParty(deal=party.deal, company=party.company, role=DealParty.Role.LEAD_INVESTOR)
    errors = _errors(duplicate, method="full_clean")
    assert errors[NON_FIELD_ERRORS] == ["Deal party with this Deal, Company and Role already exists."]


def test_full_clean_reports_a_duplicate_facility_company():
    link = FacilityCompanyFactory(role=FacilityCompany.Role.OWNER)
    duplicate = FacilityCompany(facility=link.facility, company=link.company, role=FacilityCompany.Role.OWNER)
    errors = _errors(duplicate, method="full_clean")
    assert errors[NON_FIELD_ERRORS] == ["Facility company with this Facility, Company and Role already exists."]


@pytest.mark.parametrize("target", ["deal", "company", "facility"])
def test_full_clean_reports_duplicate_evidence_with_the_constraint_message(target):
    factory = {"deal": DealFactory, "company": CompanyFactory, "facility": FacilityFactory}[target]
    first = EvidenceFactory(**{"deal": None, target: factory()}, fields=[])
    duplicate = Evidence(
        source=first.source, quote=first.quote, start=first.start, end=first.end, **{target: getattr(first, target)}
    )
    errors = _errors(duplicate, method="full_clean")
    message = _constraint_message(Evidence, f"evidence_unique_{target}_span")
    assert errors[NON_FIELD_ERRORS] == [message]
    assert target in message and "already" in message


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"deal": None}, "evidence_exactly_one_target"),
        ({"company": "new"}, "evidence_exactly_one_target"),
        ({"start": 5, "end": 5, "quote": "x"}, "evidence_start_before_end"),
    ],
)
def test_full_clean_reports_evidence_constraints_with_their_message(values, constraint):
    if values.get("company") == "new":
        values["company"] = CompanyFactory()
    source = SourceFactory()
    evidence = Evidence(source=source, deal=DealFactory(), quote=source.text[:7], start=0, end=7, fields=[])
    for name, value in values.items():
        setattr(evidence, name, value)
    errors = _errors(evidence, method="full_clean")
    assert _constraint_message(Evidence, constraint) in errors[NON_FIELD_ERRORS]
