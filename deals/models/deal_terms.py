"""The terms an article states for a deal: a unit price, a term, the share of output covered, and the instrument.

Each term is a group of columns that is stated together or not at all ("USD 110 per kilogram" is an amount, a
currency and a unit; "10 years" a length and a unit), kept as the article states it rather than converted. The
database refuses half a group (:func:`deal_terms_constraints`); :func:`deal_terms_clean` says the same in the
editor's words, on the field that is missing or wrong, so the admin form never shows a bare constraint message.
"""

from __future__ import annotations

import decimal

from django.db import models
from django.db.models import Q

from deals.models.base import choices_constraint


class Instrument(models.TextChoices):
    """The financial or commercial instrument a deal uses, as the article names it."""

    EQUITY = "equity", "Equity (shares or a stake)"
    CONVERTIBLE_PREFERRED = "convertible_preferred", "Convertible preferred stock"
    LOAN = "loan", "Loan"
    GRANT = "grant", "Grant"
    PRICE_FLOOR = "price_floor", "Price floor"
    OFFTAKE = "offtake", "Offtake (a commitment to buy output)"


class PriceUnit(models.TextChoices):
    """The quantity a unit price is quoted per; the units critical-mineral prices are quoted in."""

    KILOGRAM = "kg", "Per kilogram"
    TONNE = "tonne", "Per metric tonne"
    POUND = "lb", "Per pound"
    TONNE_UNIT = "mtu", "Per metric tonne unit (10 kg of the stated content, e.g. WO3 in tungsten concentrate)"
    TROY_OUNCE = "troy_oz", "Per troy ounce"


class TermUnit(models.TextChoices):
    """The unit a deal's term is stated in; "10 years" is stored as 10 years, not 120 months."""

    MONTHS = "months", "Months"
    YEARS = "years", "Years"


# The columns of each group, in the order the admin shows them (one line per group).
UNIT_PRICE_FIELDS = ("unit_price", "unit_price_currency", "unit_price_unit")
TERM_FIELDS = ("term_length", "term_unit")
OUTPUT_SHARE_FIELDS = ("output_share_percent", "output_share_of")
# Every deal-term field, in the order the API, the CSV and the import/export show them.
DEAL_TERM_FIELDS = (*UNIT_PRICE_FIELDS, *TERM_FIELDS, *OUTPUT_SHARE_FIELDS, "instrument")


def deal_terms_constraints() -> list[models.CheckConstraint]:
    """The database's half of the rules: each group is all stated or all empty, figures are positive, a share is
    at most 100 %, and the choices are the listed ones.

    The explicit ``isnull=False`` matters: a CHECK whose condition is NULL passes, and ``NULL > 0`` is NULL, so
    without it a missing figure with its currency or unit set would get through.
    """
    return [
        models.CheckConstraint(
            condition=Q(unit_price__isnull=True, unit_price_currency="", unit_price_unit="")
            | (Q(unit_price__isnull=False, unit_price__gt=0) & ~Q(unit_price_currency="") & ~Q(unit_price_unit="")),
            name="deal_unit_price_positive_with_currency_and_unit",
            violation_error_message="A unit price must be more than zero and have a currency and a unit.",
        ),
        models.CheckConstraint(
            condition=Q(term_length__isnull=True, term_unit="")
            | (Q(term_length__isnull=False, term_length__gt=0) & ~Q(term_unit="")),
            name="deal_term_positive_with_unit",
            violation_error_message="A term must be at least 1 and have a unit (months or years).",
        ),
        models.CheckConstraint(
            condition=Q(output_share_percent__isnull=True, output_share_of="")
            | (
                Q(output_share_percent__isnull=False, output_share_percent__gt=0, output_share_percent__lte=100)
                & ~Q(output_share_of="")
            ),
            name="deal_output_share_percent_with_subject",
            violation_error_message=(
                "A share of output must be more than 0 and at most 100 percent and say what it is a share of."
            ),
        ),
        choices_constraint("deal", "unit_price_unit", PriceUnit, blank=True),
        choices_constraint("deal", "term_unit", TermUnit, blank=True),
        choices_constraint("deal", "instrument", Instrument, blank=True),
    ]


def _is_number(value) -> bool:
    # A value that failed clean_fields() is still on the instance as typed; full_clean() calls clean() anyway.
    return isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool)


def deal_terms_clean(deal) -> dict[str, str]:
    """The editor's half of :func:`deal_terms_constraints`: one message per field, naming what to enter or clear.

    Every constraint above has a matching message here on one of its own fields, so ``full_clean()`` reports the
    field error instead of the constraint's form-wide message.
    """
    errors: dict[str, str] = {}
    price = deal.unit_price
    if price is not None:
        if _is_number(price) and price <= 0:
            errors["unit_price"] = "The unit price must be more than zero."
        if not deal.unit_price_currency:
            errors["unit_price_currency"] = "Enter the currency of the unit price, e.g. USD."
        if not deal.unit_price_unit:
            errors["unit_price_unit"] = "Choose what the unit price is per, e.g. per kilogram."
    elif deal.unit_price_currency or deal.unit_price_unit:
        errors["unit_price"] = "Enter the unit price, or clear its currency and unit."

    length = deal.term_length
    if length is not None:
        if _is_number(length) and length < 1:
            errors["term_length"] = "The term must be at least 1."
        if not deal.term_unit:
            errors["term_unit"] = "Choose whether the term is in months or years."
    elif deal.term_unit:
        errors["term_length"] = "Enter the length of the term, or clear its unit."

    percent = deal.output_share_percent
    if percent is not None:
        if _is_number(percent) and not 0 < percent <= 100:
            errors["output_share_percent"] = "The share of output must be more than 0 and at most 100 percent."
        if not deal.output_share_of:
            errors["output_share_of"] = "Say what the percentage is a share of, e.g. 'magnets produced at the plant'."
    elif deal.output_share_of:
        errors["output_share_percent"] = "Enter the percentage, or clear what it is a share of."
    return errors
