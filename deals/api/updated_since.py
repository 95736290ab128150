"""``updated_since``, the filter every list's FilterSet (deals/filtersets.py) has: records changed at or after a
moment, written as an ISO 8601 date or date-time."""

from __future__ import annotations

import datetime
import re

from django import forms
from django_filters import rest_framework as filters

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
        # An unencoded "+01:00" in a query string arrives as " 01:00".
        value = re.sub(r" ([0-9]{2}:[0-9]{2})$", r"+\1", value) if isinstance(value, str) else value
        if not isinstance(value, str) or not _UPDATED_SINCE_RE.fullmatch(value):
            raise forms.ValidationError(UPDATED_SINCE_MESSAGE, code="invalid")
        try:
            parsed = datetime.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise forms.ValidationError(UPDATED_SINCE_MESSAGE, code="invalid") from None
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=datetime.UTC)


# The schema of the parameter (deals/api/schema.py puts it on every list): a date or a date-time, as accepted.
UPDATED_SINCE_SCHEMA = {"anyOf": [{"type": "string", "format": "date"}, {"type": "string", "format": "date-time"}]}


class UpdatedSinceFilter(filters.CharFilter):
    field_class = UpdatedSinceField


def updated_since_filter():
    """``updated_since``: records whose ``updated`` is at or after the moment (a change to their relations or
    evidence moves it too); the same on every list."""
    return UpdatedSinceFilter(
        field_name="updated",
        lookup_expr="gte",
        help_text="Records changed at or after this moment (their `updated`; a change to their relations or "
        "evidence counts): an ISO 8601 date (midnight UTC) or date-time, e.g. 2025-09-01 or 2025-09-01T12:00:00Z; "
        "without an offset it is UTC. To keep a copy in sync, prefer the change feed (/api/v1/changes/), which also "
        "lists withdrawals and merges.",
    )
