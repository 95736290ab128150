"""``updated_since``, the filter every list's FilterSet (deals/filtersets/) has: records changed at or after a
moment, written as an ISO 8601 date or date-time."""

from __future__ import annotations

import datetime
import re

from django import forms
from django_filters import rest_framework as filters
from drf_spectacular.utils import extend_schema_field

_UPDATED_SINCE_RE = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}(?:T[0-9]{2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]{1,6})?)?(?:Z|[+-][0-9]{2}:[0-9]{2})?)?"
)
UPDATED_SINCE_MESSAGE = (
    "Enter an ISO 8601 date or date-time, e.g. 2025-09-01 or 2025-09-01T12:00:00Z (no offset means UTC)."
)


class UpdatedSinceField(forms.Field):
    """An ISO 8601 date (midnight UTC) or date-time (UTC unless it states an offset); empty means no filter."""

    def to_python(self, value):
        if value in self.empty_values:
            return None
        # An unencoded "+01:00" in a query string arrives as " 01:00"; RFC 3339 also allows a lower-case t and z.
        if isinstance(value, str):
            value = re.sub(r" ([0-9]{2}:[0-9]{2})$", r"+\1", value)
            value = value[:10] + value[10:].replace("t", "T", 1).replace("z", "Z")
        if not isinstance(value, str) or not _UPDATED_SINCE_RE.fullmatch(value):
            raise forms.ValidationError(UPDATED_SINCE_MESSAGE, code="invalid")
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise forms.ValidationError(UPDATED_SINCE_MESSAGE, code="invalid") from None
        parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)
        try:
            return parsed.astimezone(datetime.UTC)
        except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00: before (or after) any time the database holds
            edge = datetime.datetime.min if parsed.year == 1 else datetime.datetime.max
            return edge.replace(tzinfo=datetime.UTC)


# The schema of the parameter (deals/api/schema.py puts it on every list): a date or a date-time, as accepted.
UPDATED_SINCE_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}

UPDATED_SINCE_HELP = (
    "Records changed at or after this moment (their `updated`; a change to their relations or evidence counts): an "
    "ISO 8601 date (midnight UTC) or date-time, e.g. 2025-09-01 or 2025-09-01T12:00:00Z; without an offset it is "
    "UTC. To keep a copy in sync, prefer the change feed (/api/v1/changes/), which also lists withdrawals and merges."
)


@extend_schema_field({**UPDATED_SINCE_SCHEMA, "description": UPDATED_SINCE_HELP})
class UpdatedSinceFilter(filters.CharFilter):
    field_class = UpdatedSinceField


def updated_since_filter():
    """``updated_since``: records whose ``updated`` is at or after the moment (a change to their relations or
    evidence moves it too); the same on every list."""
    return UpdatedSinceFilter(
        field_name="updated",
        lookup_expr="gte",
        help_text=UPDATED_SINCE_HELP,
    )
