"""Every database constraint of the deals app: a violating write raises IntegrityError, the valid edge case passes.

The writes go straight to the database (``save()``, ``QuerySet.update()``, ``bulk_create()``), never through
``clean()``, so these tests show what the database itself refuses. ``CASES`` is keyed by constraint name;
``test_every_constraint_has_a_case`` enumerates the app's constraints, unique fields and non-negative integer
columns, so a constraint added without a case here fails the suite.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import IntegrityError, connection, models, transaction
from django.utils import timezone
from django_countries.fields import CountryField
from simple_history.models import HistoricalChanges

from deals.models import (
    ChangeEntry,
    ChangeSequence,
    Commodity,
    Company,
    DatasetRelease,
    DatasetVersion,
    Deal,
    DealParty,
    Evidence,
    Facility,
    FacilityCompany,
    FixtureState,
    ReleaseFile,
    Source,
    SupplyChainStage,
)
from tests.factories import (
    CommodityFactory,
    CompanyFactory,
    DealFactory,
    DealPartyFactory,
    EvidenceFactory,
    FacilityCompanyFactory,
    FacilityFactory,
    SourceFactory,
    _sha,
)

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Case:
    """How to test one constraint.

    ``valid`` writes the edge case the constraint must still allow; each of ``violations`` writes something it
    must refuse. ``mentions`` lists strings of which at least one appears in the database's error message, so
    the test knows the right rule fired (SQLite and PostgreSQL word their messages differently).
    """

    valid: Callable[[], object]
    violations: tuple[Callable[[], object], ...]
    mentions: tuple[str, ...]


def _update(instance: models.Model, **values) -> None:
    """Write ``values`` with a bare UPDATE, bypassing save() and clean()."""
    type(instance).objects.filter(pk=instance.pk).update(**values)


def _check(name: str) -> tuple[str, ...]:
    # SQLite: "CHECK constraint failed: <name>"; PostgreSQL: 'violates check constraint "<name>"'.
    return (name,)


def _unique(name: str, table: str, column: str) -> tuple[str, ...]:
    # PostgreSQL names the constraint; SQLite lists the columns ("UNIQUE constraint failed: deals_x.col, …").
    return (name, f"{table}.{column}")


def _field_unique(table: str, column: str) -> tuple[str, ...]:
    # PostgreSQL: 'unique constraint "<table>_<column>_key"'; SQLite: "UNIQUE constraint failed: <table>.<column>".
    return (f"{table}_{column}_", f"{table}.{column}")


def _nonnegative(table: str, column: str) -> tuple[str, ...]:
    # PostgreSQL: '"<table>_<column>_check"'; SQLite: "CHECK constraint failed: <column>".
    return (f"{table}_{column}_check", f"CHECK constraint failed: {column}")


def _new_stage(**values) -> SupplyChainStage:
    defaults = {"slug": "test-stage", "name": "Test stage", "segment": SupplyChainStage.Segment.MIDSTREAM}
    defaults["position"] = 100
    defaults.update(values)
    return SupplyChainStage.objects.create(**defaults)


def _evidence_for(target: str, **values) -> Evidence:
    """Build an unsaved evidence row for a fresh target of the given kind."""
    factory = {"deal": DealFactory, "company": CompanyFactory, "facility": FacilityFactory}[target]
    source = values.pop("source", None) or SourceFactory()
    fields = {"deal": None, "company": None, "facility": None, target: values.pop(target, None) or factory()}
    fields.update(source=source, quote="Article", start=0, end=7, fields=[])
    fields.update(values)
    return Evidence(**fields)


def _duplicate_span(target: str) -> None:
    first = _evidence_for(target)
    first.save()
    Evidence.objects.bulk_create([_evidence_for(target, source=first.source, **{target: getattr(first, target)})])


def _same_span_other_target(target: str) -> None:
    first = _evidence_for(target)
    first.save()
    _evidence_for(target, source=first.source).save()
    # …and the same target with an adjacent span.
    _evidence_for(target, source=first.source, start=7, end=12, **{target: getattr(first, target)}).save()


def _fixture_state(*, model: str, slug: str) -> FixtureState:
    return FixtureState.objects.create(
        model=model, slug=slug, object_id=1, digest="0" * 64, snapshot={}, written=datetime.datetime.now(datetime.UTC)
    )


CASES: dict[str, Case] = {
    # --- Source -------------------------------------------------------------------------------------------------
    "source_published_date_precision_together": Case(
        valid=lambda: (
            SourceFactory(published_date=None, published_date_precision=""),
            SourceFactory(published_date=datetime.date(2025, 1, 1), published_date_precision="year"),
        ),
        violations=(
            lambda: SourceFactory(published_date=datetime.date(2025, 8, 22), published_date_precision=""),
            lambda: SourceFactory(published_date=None, published_date_precision="day"),
            lambda: _update(SourceFactory(), published_date=None),
        ),
        mentions=_check("source_published_date_precision_together"),
    ),
    "Source.slug:unique": Case(
        valid=lambda: (SourceFactory(slug="wsj-group14"), SourceFactory(slug="wsj-group14-2")),
        violations=(lambda: (SourceFactory(slug="wsj-group14"), SourceFactory(slug="wsj-group14")),),
        mentions=_field_unique("deals_source", "slug"),
    ),
    "Source.raw_sha256:unique": Case(
        # Two different raw files may normalise to the same text: only the raw digest is unique.
        valid=lambda: (
            SourceFactory(raw_sha256=_sha("a"), text_sha256=_sha("same")),
            SourceFactory(raw_sha256=_sha("b"), text_sha256=_sha("same")),
        ),
        violations=(lambda: (SourceFactory(raw_sha256=_sha("a")), SourceFactory(raw_sha256=_sha("a"))),),
        mentions=_field_unique("deals_source", "raw_sha256"),
    ),
    # --- Commodity and SupplyChainStage -----------------------------------------------------------------------------
    "Commodity.slug:unique": Case(
        valid=lambda: (
            CommodityFactory(slug="dysprosium"),
            Commodity.objects.create(slug="dy", name="Dy", kind="element"),
        ),
        violations=(
            lambda: Commodity.objects.bulk_create(
                [
                    Commodity(slug="terbium", name="Terbium", kind="element"),
                    Commodity(slug="terbium", name="Terbium oxide", kind="material"),
                ]
            ),
        ),
        mentions=_field_unique("deals_commodity", "slug"),
    ),
    "Commodity.name:unique": Case(
        valid=lambda: (
            Commodity.objects.create(slug="dysprosium", name="Dysprosium", kind="element"),
            Commodity.objects.create(slug="dysprosium-oxide", name="Dysprosium oxide", kind="material"),
        ),
        violations=(
            lambda: (
                Commodity.objects.create(slug="dysprosium", name="Dysprosium", kind="element"),
                Commodity.objects.create(slug="dysprosium-2", name="Dysprosium", kind="element"),
            ),
        ),
        mentions=_field_unique("deals_commodity", "name"),
    ),
    "SupplyChainStage.slug:unique": Case(
        valid=lambda: _new_stage(slug="test-stage-a"),
        violations=(lambda: _new_stage(slug=SupplyChainStage.objects.first().slug),),
        mentions=_field_unique("deals_supplychainstage", "slug"),
    ),
    "SupplyChainStage.name:unique": Case(
        valid=lambda: _new_stage(name=SupplyChainStage.objects.first().name + " (second)"),
        violations=(lambda: _new_stage(name=SupplyChainStage.objects.first().name),),
        mentions=_field_unique("deals_supplychainstage", "name"),
    ),
    "SupplyChainStage.position:nonnegative": Case(
        valid=lambda: _new_stage(position=0),
        violations=(lambda: _new_stage(position=-1), lambda: _update(_new_stage(), position=-5)),
        mentions=_nonnegative("deals_supplychainstage", "position"),
    ),
    # --- Company ------------------------------------------------------------------------------------------------------
    "company_name_not_empty": Case(
        valid=lambda: CompanyFactory(name="X"),
        violations=(lambda: CompanyFactory(name=""), lambda: _update(CompanyFactory(), name="")),
        mentions=_check("company_name_not_empty"),
    ),
    "Company.slug:unique": Case(
        valid=lambda: (CompanyFactory(slug="sk-inc"), CompanyFactory(slug="sk-inc-2")),
        violations=(lambda: (CompanyFactory(slug="sk-inc"), CompanyFactory(slug="sk-inc")),),
        mentions=_field_unique("deals_company", "slug"),
    ),
    # --- Facility -------------------------------------------------------------------------------------------------
    "Facility.slug:unique": Case(
        valid=lambda: (FacilityFactory(slug="js-link-columbus"), FacilityFactory(slug="js-link-columbus-2")),
        violations=(lambda: _update(FacilityFactory(), slug=FacilityFactory().slug),),
        mentions=_field_unique("deals_facility", "slug"),
    ),
    "facility_region_code_matches_country": Case(
        valid=lambda: (
            FacilityFactory(country="US", region="Georgia", region_code="US-GA"),
            FacilityFactory(country="CA", region="Quebec", region_code="CA-QC"),
            FacilityFactory(country="", region="", region_code=""),
        ),
        violations=(
            lambda: FacilityFactory(country="CA", region="Georgia", region_code="US-GA"),
            lambda: FacilityFactory(country="", region="Georgia", region_code="US-GA"),
            lambda: FacilityFactory(country="US", region="Georgia", region_code="us-ga"),
            lambda: FacilityFactory(country="US", region="Georgia", region_code="US-"),
            lambda: FacilityFactory(country="US", region="Georgia", region_code="GA"),
        ),
        mentions=_check("facility_region_code_matches_country"),
    ),
    "facility_latitude_range": Case(
        valid=lambda: (
            FacilityFactory(latitude=Decimal("90"), longitude=Decimal("0"), location_precision="exact"),
            FacilityFactory(latitude=Decimal("-90"), longitude=Decimal("0"), location_precision="exact"),
        ),
        violations=(
            lambda: FacilityFactory(latitude=Decimal("90.000001"), longitude=Decimal("0")),
            lambda: FacilityFactory(latitude=Decimal("-91"), longitude=Decimal("0")),
        ),
        mentions=_check("facility_latitude_range"),
    ),
    "facility_longitude_range": Case(
        valid=lambda: (
            FacilityFactory(latitude=Decimal("0"), longitude=Decimal("180"), location_precision="exact"),
            FacilityFactory(latitude=Decimal("0"), longitude=Decimal("-180"), location_precision="exact"),
        ),
        violations=(
            lambda: FacilityFactory(latitude=Decimal("0"), longitude=Decimal("-180.000001")),
            lambda: FacilityFactory(latitude=Decimal("0"), longitude=Decimal("181")),
        ),
        mentions=_check("facility_longitude_range"),
    ),
    "facility_coordinates_together": Case(
        valid=lambda: FacilityFactory(latitude=Decimal("32.4"), longitude=Decimal("-84.9"), location_precision="exact"),
        violations=(
            lambda: FacilityFactory(latitude=Decimal("32.4"), longitude=None),
            lambda: FacilityFactory(latitude=None, longitude=Decimal("-84.9")),
        ),
        mentions=_check("facility_coordinates_together"),
    ),
    "facility_capacity_nonnegative_with_unit": Case(
        valid=lambda: (
            FacilityFactory(capacity_amount=Decimal("0"), capacity_unit="tonnes", capacity_period="year"),
            FacilityFactory(capacity_amount=None, capacity_unit=""),
        ),
        violations=(
            lambda: FacilityFactory(capacity_amount=Decimal("-1"), capacity_unit="tonnes", capacity_period="year"),
            lambda: FacilityFactory(capacity_amount=Decimal("3000"), capacity_unit="", capacity_period="year"),
        ),
        mentions=_check("facility_capacity_nonnegative_with_unit"),
    ),
    "facility_investment_nonnegative_with_currency": Case(
        valid=lambda: FacilityFactory(investment_amount=Decimal("0"), investment_currency="USD"),
        violations=(
            lambda: FacilityFactory(investment_amount=Decimal("-0.01"), investment_currency="USD"),
            lambda: FacilityFactory(investment_amount=Decimal("223000000"), investment_currency=""),
        ),
        mentions=_check("facility_investment_nonnegative_with_currency"),
    ),
    "facility_investment_usd_nonnegative": Case(
        valid=lambda: FacilityFactory(investment_amount_usd=Decimal("0")),
        violations=(lambda: _update(FacilityFactory(), investment_amount_usd=Decimal("-0.01")),),
        mentions=_check("facility_investment_usd_nonnegative"),
    ),
    "facility_planned_start_precision_together": Case(
        valid=lambda: (
            FacilityFactory(planned_start=datetime.date(2027, 1, 1), planned_start_precision="year"),
            FacilityFactory(planned_start=None, planned_start_precision=""),
        ),
        violations=(
            lambda: FacilityFactory(planned_start=datetime.date(2027, 1, 1), planned_start_precision=""),
            lambda: FacilityFactory(planned_start=None, planned_start_precision="year"),
        ),
        mentions=_check("facility_planned_start_precision_together"),
    ),
    "Facility.jobs:nonnegative": Case(
        valid=lambda: FacilityFactory(jobs=0),
        violations=(lambda: FacilityFactory(jobs=-1), lambda: _update(FacilityFactory(jobs=500), jobs=-500)),
        mentions=_nonnegative("deals_facility", "jobs"),
    ),
    "facility_company_role_unique": Case(
        valid=lambda: (
            (link := FacilityCompanyFactory(role="owner")),
            FacilityCompanyFactory(facility=link.facility, company=link.company, role="operator"),
        ),
        violations=(
            lambda: FacilityCompany.objects.bulk_create(
                [FacilityCompany(facility=(f := FacilityFactory()), company=(c := CompanyFactory()), role="owner")]
                + [FacilityCompany(facility=f, company=c, role="owner")]
            ),
        ),
        mentions=_unique("facility_company_role_unique", "deals_facilitycompany", "role"),
    ),
    # --- Deal ---------------------------------------------------------------------------------------------------
    "Deal.slug:unique": Case(
        valid=lambda: (DealFactory(slug="group14-sk-463m"), DealFactory(slug="group14-sk-463m-b")),
        violations=(lambda: (DealFactory(slug="group14-sk-463m"), DealFactory(slug="group14-sk-463m")),),
        mentions=_field_unique("deals_deal", "slug"),
    ),
    "deal_amount_nonnegative_with_currency": Case(
        valid=lambda: (
            DealFactory(amount=Decimal("0"), currency="USD", amount_usd=Decimal("0")),
            DealFactory(amount=None, currency="", amount_usd=None, value_qualifier=""),
        ),
        violations=(
            lambda: DealFactory(amount=Decimal("-1"), currency="USD", amount_usd=None),
            lambda: DealFactory(amount=Decimal("463000000"), currency="", amount_usd=None),
            lambda: _update(DealFactory(), currency=""),
        ),
        mentions=_check("deal_amount_nonnegative_with_currency"),
    ),
    "deal_amount_usd_nonnegative": Case(
        valid=lambda: DealFactory(amount=None, currency="", amount_usd=Decimal("0"), value_qualifier=""),
        violations=(
            lambda: DealFactory(amount_usd=Decimal("-0.01")),
            lambda: _update(DealFactory(), amount_usd=Decimal("-1")),
        ),
        mentions=_check("deal_amount_usd_nonnegative"),
    ),
    "deal_qualifier_needs_amount": Case(
        valid=lambda: (
            DealFactory(amount=Decimal("0"), value_qualifier="up_to"),
            DealFactory(amount=None, currency="", amount_usd=None, value_qualifier=""),
        ),
        violations=(
            lambda: DealFactory(amount=None, currency="", amount_usd=None, value_qualifier="approximate"),
            lambda: _update(DealFactory(value_qualifier="up_to"), amount=None, currency=""),
        ),
        mentions=_check("deal_qualifier_needs_amount"),
    ),
    "deal_announced_date_precision_together": Case(
        valid=lambda: DealFactory(announced_date=None, announced_date_precision=""),
        violations=(
            lambda: DealFactory(announced_date=datetime.date(2025, 8, 1), announced_date_precision=""),
            lambda: DealFactory(announced_date=None, announced_date_precision="month"),
        ),
        mentions=_check("deal_announced_date_precision_together"),
    ),
    "deal_party_role_unique": Case(
        valid=lambda: (
            (party := DealPartyFactory(role="investor")),
            DealPartyFactory(deal=party.deal, company=party.company, role="lead_investor"),
        ),
        violations=(
            lambda: (
                (party := DealPartyFactory(role="investor")),
                DealPartyFactory(deal=party.deal, company=party.company, role="investor"),
            ),
            lambda: (
                (party := DealPartyFactory(role="investor")),
                _update(DealPartyFactory(deal=party.deal, company=party.company, role="partner"), role="investor"),
            ),
        ),
        mentions=_unique("deal_party_role_unique", "deals_dealparty", "role"),
    ),
    # --- FixtureState (the loader's bookkeeping) --------------------------------------------------------------
    "fixture_state_model_slug_unique": Case(
        valid=lambda: (_fixture_state(model="deals.deal", slug="a"), _fixture_state(model="deals.company", slug="a")),
        violations=(
            lambda: (_fixture_state(model="deals.deal", slug="a"), _fixture_state(model="deals.deal", slug="a")),
        ),
        mentions=_unique("fixture_state_model_slug_unique", "deals_fixturestate", "slug"),
    ),
    # --- Evidence -------------------------------------------------------------------------------------------------
    "evidence_exactly_one_target": Case(
        valid=lambda: (_evidence_for("deal").save(), _evidence_for("company").save(), _evidence_for("facility").save()),
        violations=(
            lambda: Evidence(source=SourceFactory(), quote="Article", start=0, end=7).save(),
            lambda: _evidence_for("deal", company=CompanyFactory()).save(),
            lambda: _evidence_for("facility", company=CompanyFactory(), deal=DealFactory()).save(),
            lambda: _update(EvidenceFactory(), deal=None),
        ),
        mentions=_check("evidence_exactly_one_target"),
    ),
    "evidence_start_before_end": Case(
        valid=lambda: EvidenceFactory(start=4, end=5, quote="c"),
        violations=(
            lambda: EvidenceFactory(start=5, end=5, quote="x"),
            lambda: EvidenceFactory(start=6, end=5, quote="x"),
            lambda: _update(EvidenceFactory(), end=0),
        ),
        mentions=_check("evidence_start_before_end"),
    ),
    "evidence_start_nonnegative": Case(
        valid=lambda: EvidenceFactory(start=0),
        # The column's own non-negative check may fire first: either message names the start offset.
        violations=(lambda: EvidenceFactory(start=-1, end=5, quote="x"),),
        mentions=("evidence_start_nonnegative", *_nonnegative("deals_evidence", "start")),
    ),
    "Evidence.start:nonnegative": Case(
        valid=lambda: _update(EvidenceFactory(start=3, end=9), start=0),
        violations=(lambda: _update(EvidenceFactory(), start=-3),),
        mentions=("evidence_start_nonnegative", *_nonnegative("deals_evidence", "start")),
    ),
    "Evidence.end:nonnegative": Case(
        valid=lambda: EvidenceFactory(start=0, end=1, quote="A"),
        # A negative end also breaks start < end; either message is the database refusing it.
        violations=(lambda: _update(EvidenceFactory(), end=-1),),
        mentions=("evidence_start_before_end", *_nonnegative("deals_evidence", "end")),
    ),
    "evidence_quote_not_empty": Case(
        valid=lambda: EvidenceFactory(quote="A"),
        violations=(lambda: EvidenceFactory(quote=""), lambda: _update(EvidenceFactory(), quote="")),
        mentions=_check("evidence_quote_not_empty"),
    ),
    "evidence_unique_deal_span": Case(
        valid=lambda: _same_span_other_target("deal"),
        violations=(lambda: _duplicate_span("deal"),),
        mentions=_unique("evidence_unique_deal_span", "deals_evidence", "deal_id"),
    ),
    "evidence_unique_company_span": Case(
        valid=lambda: _same_span_other_target("company"),
        violations=(lambda: _duplicate_span("company"),),
        mentions=_unique("evidence_unique_company_span", "deals_evidence", "company_id"),
    ),
    "evidence_unique_facility_span": Case(
        valid=lambda: _same_span_other_target("facility"),
        violations=(lambda: _duplicate_span("facility"),),
        mentions=_unique("evidence_unique_facility_span", "deals_evidence", "facility_id"),
    ),
    # --- A qualifier, period or currency needs its figure ---------------------------------------------------------
    "facility_capacity_period_needs_capacity_amount": Case(
        valid=lambda: (
            FacilityFactory(capacity_amount=Decimal("3000"), capacity_unit="tonnes", capacity_period="year"),
            FacilityFactory(capacity_amount=None, capacity_period=""),
        ),
        violations=(
            lambda: FacilityFactory(capacity_amount=None, capacity_period="year"),
            lambda: _update(
                FacilityFactory(capacity_amount=Decimal("3000"), capacity_unit="tonnes", capacity_period="year"),
                capacity_amount=None,
            ),
        ),
        mentions=_check("facility_capacity_period_needs_capacity_amount"),
    ),
    "facility_capacity_qualifier_needs_capacity_amount": Case(
        valid=lambda: FacilityFactory(
            capacity_amount=Decimal("3000"), capacity_unit="tonnes", capacity_period="year", capacity_qualifier="exact"
        ),
        violations=(lambda: FacilityFactory(capacity_amount=None, capacity_qualifier="approximate"),),
        mentions=_check("facility_capacity_qualifier_needs_capacity_amount"),
    ),
    "facility_jobs_qualifier_needs_jobs": Case(
        valid=lambda: (
            FacilityFactory(jobs=500, jobs_qualifier="at_least"),
            FacilityFactory(jobs=0, jobs_qualifier=""),
        ),
        violations=(
            lambda: FacilityFactory(jobs=None, jobs_qualifier="at_least"),
            lambda: _update(FacilityFactory(jobs=500, jobs_qualifier="at_least"), jobs=None),
        ),
        mentions=_check("facility_jobs_qualifier_needs_jobs"),
    ),
    "facility_investment_qualifier_needs_investment_amount": Case(
        valid=lambda: FacilityFactory(
            investment_amount=Decimal("223000000"), investment_currency="USD", investment_qualifier="exact"
        ),
        violations=(lambda: FacilityFactory(investment_amount=None, investment_qualifier="up_to"),),
        mentions=_check("facility_investment_qualifier_needs_investment_amount"),
    ),
    "facility_investment_currency_needs_investment_amount": Case(
        valid=lambda: FacilityFactory(investment_amount=None, investment_currency=""),
        violations=(
            lambda: FacilityFactory(investment_amount=None, investment_currency="USD"),
            lambda: _update(
                FacilityFactory(investment_amount=Decimal("1"), investment_currency="USD"), investment_amount=None
            ),
        ),
        mentions=_check("facility_investment_currency_needs_investment_amount"),
    ),
    # --- Deal terms (deals/models/deal_terms.py): each group stated whole or not at all ---------------------------
    "deal_unit_price_positive_with_currency_and_unit": Case(
        valid=lambda: (
            DealFactory(unit_price=Decimal("0.0001"), unit_price_currency="USD", unit_price_unit="kg"),
            DealFactory(unit_price=None, unit_price_currency="", unit_price_unit=""),
        ),
        violations=(
            lambda: DealFactory(unit_price=Decimal("0"), unit_price_currency="USD", unit_price_unit="kg"),
            lambda: DealFactory(unit_price=Decimal("-110"), unit_price_currency="USD", unit_price_unit="kg"),
            lambda: DealFactory(unit_price=Decimal("110"), unit_price_currency="", unit_price_unit="kg"),
            lambda: DealFactory(unit_price=Decimal("110"), unit_price_currency="USD", unit_price_unit=""),
            lambda: DealFactory(unit_price=None, unit_price_currency="USD", unit_price_unit=""),
            lambda: DealFactory(unit_price=None, unit_price_currency="", unit_price_unit="kg"),
            lambda: _update(DealFactory(terms=True), unit_price=None),
        ),
        mentions=_check("deal_unit_price_positive_with_currency_and_unit"),
    ),
    "deal_term_positive_with_unit": Case(
        valid=lambda: (DealFactory(term_length=1, term_unit="months"), DealFactory(term_length=None, term_unit="")),
        violations=(
            lambda: DealFactory(term_length=0, term_unit="years"),
            lambda: DealFactory(term_length=10, term_unit=""),
            lambda: DealFactory(term_length=None, term_unit="years"),
            lambda: _update(DealFactory(terms=True), term_unit=""),
        ),
        mentions=_check("deal_term_positive_with_unit"),
    ),
    "Deal.term_length:nonnegative": Case(
        valid=lambda: DealFactory(term_length=1, term_unit="years"),
        violations=(lambda: _update(DealFactory(terms=True), term_length=-10),),
        # Both the column's own CHECK and the group's (term > 0) refuse it; either names the rule.
        mentions=(*_nonnegative("deals_deal", "term_length"), "deal_term_positive_with_unit"),
    ),
    "deal_output_share_percent_with_subject": Case(
        valid=lambda: (
            DealFactory(output_share_percent=Decimal("100"), output_share_of="magnets produced at the plant"),
            DealFactory(output_share_percent=Decimal("0.01"), output_share_of="output"),
            DealFactory(output_share_percent=None, output_share_of=""),
        ),
        violations=(
            lambda: DealFactory(output_share_percent=Decimal("0"), output_share_of="output"),
            lambda: DealFactory(output_share_percent=Decimal("100.01"), output_share_of="output"),
            lambda: DealFactory(output_share_percent=Decimal("-5"), output_share_of="output"),
            lambda: DealFactory(output_share_percent=Decimal("50"), output_share_of=""),
            lambda: DealFactory(output_share_percent=None, output_share_of="output"),
            lambda: _update(DealFactory(terms=True), output_share_percent=None),
        ),
        mentions=_check("deal_output_share_percent_with_subject"),
    ),
    "deal_currency_needs_amount": Case(
        valid=lambda: DealFactory(amount=None, currency="", amount_usd=None, value_qualifier=""),
        violations=(
            lambda: DealFactory(amount=None, currency="USD", amount_usd=None, value_qualifier=""),
            lambda: _update(DealFactory(value_qualifier=""), amount=None),
        ),
        mentions=_check("deal_currency_needs_amount"),
    ),
}


# --- Choice fields: the database refuses a value outside the field's choices ----------------------------------------


# How each model's constraints are prefixed, and a row of it with every figure stated, so that any choice (a
# period, a qualifier, a precision) may be written to it without breaking another rule.
def _change_entry(**values) -> ChangeEntry:
    row = {"time": timezone.now(), "resource": "deals", "record_id": 1, "slug": "a-deal", "action": "updated"}
    return ChangeEntry.objects.create(**{**row, **values})


_CHOICE_ROWS: dict[type[models.Model], tuple[str, Callable[[], models.Model]]] = {
    Commodity: ("commodity", CommodityFactory),
    SupplyChainStage: ("stage", _new_stage),
    Source: ("source", SourceFactory),
    Company: ("company", CompanyFactory),
    Facility: (
        "facility",
        lambda: FacilityFactory(
            capacity_amount=Decimal("3000"),
            capacity_unit="tonnes",
            capacity_period="year",
            jobs=500,
            investment_amount=Decimal("223000000"),
            investment_currency="USD",
            planned_start=datetime.date(2027, 1, 1),
            planned_start_precision="year",
        ),
    ),
    FacilityCompany: ("facility_company", FacilityCompanyFactory),
    Deal: ("deal", lambda: DealFactory(terms=True)),
    DealParty: ("deal_party", DealPartyFactory),
    ChangeEntry: ("changeentry", lambda: _change_entry(sequence=900)),
}
# A precision is empty only together with its date (the *_precision_together constraints), a unit only together
# with its figure (the deal terms' groups): what to clear with them when a choice is written as "".
_BLANK_COMPANIONS = {
    "published_date_precision": {"published_date": None},
    "planned_start_precision": {"planned_start": None},
    "announced_date_precision": {"announced_date": None},
    "unit_price_unit": {"unit_price": None, "unit_price_currency": ""},
    "term_unit": {"term_length": None},
}
# Short enough for the narrowest choice column (varchar(5)), so PostgreSQL reports the CHECK, not the length.
_NOT_A_CHOICE = "zzz"


# A withdrawn record needs a reason and a date (the *_withdrawn_has_reason_and_date constraints).
_WITHDRAWN = {
    "withdrawn_reason": "Duplicate entry.",
    "withdrawn_at": datetime.datetime(2025, 9, 1, tzinfo=datetime.UTC),
}


def _write_every_choice(model: type[models.Model], field: models.Field) -> None:
    row = _CHOICE_ROWS[model][1]()
    for value, _label in field.choices:
        companion = _WITHDRAWN if (field.name, value) == ("publication_status", "withdrawn") else {}
        _update(row, **{field.name: value}, **companion)
        if companion:
            _update(row, publication_status="published", withdrawn_reason="", withdrawn_at=None)
    if field.blank:
        companion = _BLANK_COMPANIONS.get(field.name, {})
        _update(row, **{field.name: ""}, **companion)


def _choice_cases() -> dict[str, Case]:
    """One case per choice field: every choice (and "" where the field may be blank) is accepted, others refused."""
    cases: dict[str, Case] = {}
    for model, (prefix, build) in _CHOICE_ROWS.items():
        for field in model._meta.local_fields:
            if not field.choices or isinstance(field, CountryField):
                continue
            name = f"{prefix}_{field.name}_valid"
            violations = [lambda build=build, f=field.name: _update(build(), **{f: _NOT_A_CHOICE})]
            if not field.blank:
                violations.append(lambda build=build, f=field.name: _update(build(), **{f: ""}))
            cases[name] = Case(
                valid=lambda model=model, field=field: _write_every_choice(model, field),
                violations=tuple(violations),
                mentions=_check(name),
            )
    return cases


CASES.update(_choice_cases())

# --- DatasetVersion (deals/caching.py): one row, id 1 ------------------------------------------------------------
CASES["datasetversion_single_row"] = Case(
    valid=lambda: DatasetVersion.objects.create(id=1, token="a" * 32),
    violations=(
        lambda: DatasetVersion.objects.create(id=2, token="b" * 32),
        lambda: _update(DatasetVersion.objects.create(id=1, token="c" * 32), id=0),
    ),
    mentions=_check("datasetversion_single_row"),
)

# --- The change feed (deals/changes.py): one counter row; unique, non-negative sequence numbers -----------------
CASES["changesequence_single_row"] = Case(
    valid=lambda: ChangeSequence.objects.create(id=1, value=0),
    violations=(
        lambda: ChangeSequence.objects.create(id=2, value=0),
        lambda: _update(ChangeSequence.objects.create(id=1), id=0),
    ),
    mentions=_check("changesequence_single_row"),
)
CASES["ChangeSequence.value:nonnegative"] = Case(
    valid=lambda: ChangeSequence.objects.create(id=1, value=0),
    violations=(lambda: _update(ChangeSequence.objects.create(id=1, value=3), value=-1),),
    mentions=_nonnegative("deals_changesequence", "value"),
)
CASES["ChangeEntry.sequence:unique"] = Case(
    valid=lambda: (_change_entry(sequence=1), _change_entry(sequence=2)),
    violations=(lambda: (_change_entry(sequence=1), _change_entry(sequence=1)),),
    mentions=_field_unique("deals_changeentry", "sequence"),
)
CASES["ChangeEntry.sequence:nonnegative"] = Case(
    valid=lambda: _change_entry(sequence=0),
    violations=(lambda: _change_entry(sequence=-1), lambda: _update(_change_entry(sequence=5), sequence=-5)),
    mentions=_nonnegative("deals_changeentry", "sequence"),
)


# --- DatasetRelease / ReleaseFile (deals/models/release.py) --------------------------------------------------------
def _release(number: int, version: str | None = None) -> DatasetRelease:
    return DatasetRelease.objects.create(
        number=number,
        version=version or f"2026.12.02.{number}",
        created=datetime.datetime.now(datetime.UTC),
        dataset_sha256="0" * 64,
    )


def _release_file(release: DatasetRelease, *, position: int = 0, name: str = "a.csv", size: int = 0) -> ReleaseFile:
    return ReleaseFile.objects.create(
        release=release, position=position, name=name, media_type="text/csv", size=size, sha256="0" * 64, content=b""
    )


CASES["DatasetRelease.number:unique"] = Case(
    valid=lambda: (_release(1), _release(2)),
    violations=(lambda: (_release(1), _release(1, "2026.12.03.1")),),
    mentions=_field_unique("deals_datasetrelease", "number"),
)
CASES["DatasetRelease.version:unique"] = Case(
    valid=lambda: (_release(1, "2026.12.02.1"), _release(2, "2026.12.02.2")),
    violations=(lambda: (_release(1, "2026.12.02.1"), _release(2, "2026.12.02.1")),),
    mentions=_field_unique("deals_datasetrelease", "version"),
)
CASES["DatasetRelease.number:nonnegative"] = Case(
    valid=lambda: _release(0),
    violations=(lambda: _release(-1, "2026.12.02.9"),),
    mentions=_nonnegative("deals_datasetrelease", "number"),
)
CASES["releasefile_name_unique"] = Case(
    valid=lambda: (_release_file(_release(1)), _release_file(_release(2))),
    violations=(lambda: (_release_file(r := _release(1)), _release_file(r, position=1)),),
    mentions=_unique("releasefile_name_unique", "deals_releasefile", "name"),
)
CASES["releasefile_position_unique"] = Case(
    valid=lambda: (_release_file(r := _release(1)), _release_file(r, position=1, name="b.csv")),
    violations=(lambda: (_release_file(r := _release(1)), _release_file(r, name="b.csv")),),
    mentions=_unique("releasefile_position_unique", "deals_releasefile", "position"),
)
CASES["ReleaseFile.position:nonnegative"] = Case(
    valid=lambda: _release_file(_release(1), position=0),
    violations=(lambda: _release_file(_release(1), position=-1),),
    mentions=_nonnegative("deals_releasefile", "position"),
)
CASES["ReleaseFile.size:nonnegative"] = Case(
    valid=lambda: _release_file(_release(1), size=0),
    violations=(lambda: _release_file(_release(1), size=-1),),
    mentions=_nonnegative("deals_releasefile", "size"),
)


def _publication_cases() -> dict[str, Case]:
    """The lifecycle rules shared by deals, companies and facilities (deals/models/publication.py)."""
    cases: dict[str, Case] = {}
    now = _WITHDRAWN["withdrawn_at"]
    for prefix, build in (("deal", DealFactory), ("company", CompanyFactory), ("facility", FacilityFactory)):
        cases[f"{prefix}_withdrawn_has_reason_and_date"] = Case(
            valid=lambda build=build: build(publication_status="withdrawn", **_WITHDRAWN),
            violations=(
                lambda build=build: build(publication_status="withdrawn", withdrawn_at=now),
                lambda build=build: build(publication_status="withdrawn", withdrawn_reason="Duplicate."),
                lambda build=build: _update(build(**_WITHDRAWN, publication_status="withdrawn"), withdrawn_at=None),
            ),
            mentions=_check(f"{prefix}_withdrawn_has_reason_and_date"),
        )
        cases[f"{prefix}_withdrawal_only_when_withdrawn"] = Case(
            valid=lambda build=build: (build(publication_status="draft"), build(publication_status="published")),
            violations=(
                lambda build=build: build(publication_status="published", withdrawn_reason="Duplicate."),
                lambda build=build: build(publication_status="draft", withdrawn_at=now),
            ),
            mentions=_check(f"{prefix}_withdrawal_only_when_withdrawn"),
        )
        cases[f"{prefix}_merged_is_withdrawn"] = Case(
            valid=lambda build=build: build(publication_status="withdrawn", merged_into=build(), **_WITHDRAWN),
            violations=(
                lambda build=build: build(publication_status="published", merged_into=build()),
                lambda build=build: (lambda r: _update(r, merged_into=r))(
                    build(publication_status="withdrawn", **_WITHDRAWN)
                ),
            ),
            mentions=_check(f"{prefix}_merged_is_withdrawn"),
        )
    return cases


CASES.update(_publication_cases())


# Django gives these column types a CHECK (column >= 0) of their own on every database.
_NONNEGATIVE_FIELDS = (models.PositiveIntegerField, models.PositiveSmallIntegerField, models.PositiveBigIntegerField)


def _dataset_models() -> list[type[models.Model]]:
    """The deals app's own models, without django-simple-history's shadow tables (which copy no constraints)."""
    return [m for m in apps.get_app_config("deals").get_models() if not issubclass(m, HistoricalChanges)]


def _constraint_keys() -> set[str]:
    """Every database-enforced rule of the app, named the way CASES is keyed."""
    keys: set[str] = set()
    for model in _dataset_models():
        keys |= {constraint.name for constraint in model._meta.constraints}
        for field in model._meta.local_fields:
            if field.unique and not field.primary_key:
                keys.add(f"{model.__name__}.{field.name}:unique")
            if isinstance(field, _NONNEGATIVE_FIELDS):
                keys.add(f"{model.__name__}.{field.name}:nonnegative")
    return keys


def test_every_constraint_has_a_case():
    keys = _constraint_keys()
    assert keys - set(CASES) == set(), "constraints without a test case in CASES"
    assert set(CASES) - keys == set(), "CASES entries for constraints that no longer exist"


def test_constraint_enumeration_sees_the_known_rules():
    # Guards the meta-test: the enumeration must find the kinds of rule it claims to find.
    keys = _constraint_keys()
    assert {"evidence_exactly_one_target", "Deal.slug:unique", "Facility.jobs:nonnegative"} <= keys
    assert len(keys) >= 30
    # Every choice field of every model is covered, and its case is the generated one.
    choice_fields = [
        (m, f) for m in _dataset_models() for f in m._meta.local_fields if f.choices and not isinstance(f, CountryField)
    ]
    assert len(choice_fields) == 26
    assert {f"{_CHOICE_ROWS[m][0]}_{f.name}_valid" for m, f in choice_fields} <= keys


def test_choice_constraints_name_the_field_and_the_allowed_values():
    constraint = next(c for c in Deal._meta.constraints if c.name == "deal_status_valid")
    assert constraint.violation_error_message == (
        "status must be one of: announced, non_binding, signed, closed, terminated, unknown."
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Company.objects.create(slug="bad-kind", name="Bad kind", kind="not-a-kind")
    with pytest.raises(IntegrityError), transaction.atomic():
        DealFactory(deal_type="zzz", status="qqq")


def test_every_check_constraint_has_its_own_message():
    # full_clean() and the API report these messages to editors and clients; Django's default names no field.
    for model in _dataset_models():
        for constraint in model._meta.constraints:
            assert isinstance(constraint, models.CheckConstraint | models.UniqueConstraint)
            if isinstance(constraint, models.CheckConstraint):
                assert constraint.violation_error_message != constraint.default_violation_error_message


@pytest.mark.parametrize("name", sorted(CASES))
def test_valid_edge_case_is_accepted(name):
    with transaction.atomic():
        CASES[name].valid()


VIOLATIONS = [(name, index) for name in sorted(CASES) for index in range(len(CASES[name].violations))]


@pytest.mark.parametrize(("name", "index"), VIOLATIONS, ids=[f"{n}-{i}" for n, i in VIOLATIONS])
def test_violating_write_raises_integrity_error(name, index):
    case = CASES[name]
    with pytest.raises(IntegrityError) as excinfo, transaction.atomic():
        case.violations[index]()
    message = str(excinfo.value)
    assert any(fragment in message for fragment in case.mentions), (
        f"{connection.vendor} refused the write, but not for {name}: {message}"
    )


def test_a_refused_write_leaves_nothing_behind():
    before = (Deal.objects.count(), Source.objects.count(), DealParty.objects.count())
    with pytest.raises(IntegrityError), transaction.atomic():
        party = DealPartyFactory(role="investor")
        DealPartyFactory(deal=party.deal, company=party.company, role="investor")
    assert (Deal.objects.count(), Source.objects.count(), DealParty.objects.count()) == before


def test_unique_span_constraints_ignore_rows_for_other_targets():
    # The partial unique indexes only cover rows of their own kind: a company row and a facility row on the same
    # span and source coexist with a deal row there.
    source = SourceFactory()
    for target in ("deal", "company", "facility"):
        _evidence_for(target, source=source).save()
    assert Evidence.objects.filter(source=source, start=0, end=7).count() == 3
    assert Company.objects.count() == 1 and Facility.objects.count() == 1
