"""Range filters of the public API: bounds on periods (a year, a month or a day), quantities and whole numbers.

Each bound accepts one strict ASCII shape (no sign, exponent, spaces, separators or non-ASCII digits) and answers
a 400 stating it for anything else; the patterns are published in the OpenAPI schema (deals.api.schema).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

from django import forms
from django_filters import rest_framework as filters

# A year or a month; a day is documented as an OpenAPI date (see deals.api.schema), which clients validate better.
PERIOD_PATTERN = r"^[1-9][0-9]{3}(-(0[1-9]|1[0-2]))?$"
_PERIOD_RE = re.compile(r"([0-9]{4})(?:-([0-9]{2})(?:-([0-9]{2}))?)?")
PERIOD_MESSAGE = "Enter a year (YYYY), a month (YYYY-MM) or a date (YYYY-MM-DD), e.g. 2027 or 2027-06."


class PeriodBoundField(forms.Field):
    """A year, a month or a day, as the first (``start``) or the last day of that period."""

    def __init__(self, *args, end: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        self.end = end

    def to_python(self, value):
        if value in self.empty_values:
            return None
        match = _PERIOD_RE.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise forms.ValidationError(PERIOD_MESSAGE, code="invalid")
        year, month, day = (int(part) if part else None for part in match.groups())
        try:
            if day is not None:
                return datetime.date(year, month, day)
            if month is not None:
                first = datetime.date(year, month, 1)
                if not self.end:
                    return first
                following = datetime.date(year + month // 12, month % 12 + 1, 1)
                return following - datetime.timedelta(days=1)
            return datetime.date(year, 12, 31) if self.end else datetime.date(year, 1, 1)
        except ValueError:
            raise forms.ValidationError(PERIOD_MESSAGE, code="invalid") from None


class PeriodBoundFilter(filters.Filter):
    field_class = PeriodBoundField


def period_filter(*, field_name: str, end: bool, help_text: str):
    """A date bound given as a year, a month or a day: from its first day (``end=False``, ``>=``) or up to its
    last day (``end=True``, ``<=``), so ``x_after=2027&x_before=2027`` is the year 2027."""
    bound = "last" if end else "first"
    return PeriodBoundFilter(
        field_name=field_name,
        lookup_expr="lte" if end else "gte",
        end=end,
        help_text=f"{help_text} A year (YYYY), a month (YYYY-MM) or a date (YYYY-MM-DD), read as its {bound} day; "
        "inclusive.",
    )


# 9 digits stay below the 32-bit integer column's limit, where PostgreSQL's and SQLite's comparisons agree.
WHOLE_PATTERN = r"^[0-9]{1,9}$"
_WHOLE_RE = re.compile(WHOLE_PATTERN[1:-1])
WHOLE_MESSAGE = "Enter a whole number of at most 9 digits, e.g. 500."
QUANTITY_PATTERN = r"^[0-9]{1,13}(\.[0-9]{1,3})?$"
_QUANTITY_RE = re.compile(QUANTITY_PATTERN[1:-1])
QUANTITY_MESSAGE = (
    "Enter a plain decimal number: up to 13 digits, optionally a point and 1 to 3 decimals, e.g. 3000 or 1.5."
)


class PatternNumberField(forms.Field):
    """A non-negative number written as plain ASCII digits matching ``pattern`` (no sign, exponent, spaces)."""

    def __init__(self, *args, pattern: re.Pattern, message: str, convert, **kwargs):
        super().__init__(*args, **kwargs)
        self.pattern, self.message, self.convert = pattern, message, convert

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if not isinstance(value, str) or not self.pattern.fullmatch(value):
            raise forms.ValidationError(self.message, code="invalid")
        return self.convert(value)


class PatternNumberFilter(filters.Filter):
    field_class = PatternNumberField


def whole_filter(*, field_name: str, lookup_expr: str, help_text: str, **kwargs):
    """A bound on a whole-number field (e.g. jobs); ``kwargs`` go to the filter (e.g. a ``method``)."""
    return PatternNumberFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        pattern=_WHOLE_RE,
        message=WHOLE_MESSAGE,
        convert=int,
        help_text=f"{help_text} A whole number (up to 9 digits); inclusive.",
        **kwargs,
    )


def quantity_filter(*, field_name: str, lookup_expr: str, help_text: str):
    """A bound on a quantity with up to 3 decimals (e.g. capacity)."""
    return PatternNumberFilter(
        field_name=field_name,
        lookup_expr=lookup_expr,
        pattern=_QUANTITY_RE,
        message=QUANTITY_MESSAGE,
        convert=Decimal,
        help_text=f"{help_text} A plain decimal number (up to 13 digits, optionally a point and 1 to 3 decimals); "
        "inclusive.",
    )
