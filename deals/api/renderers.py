"""CSV output for list endpoints: flat columns, RFC 4180 quoting, and no spreadsheet formula injection."""

from __future__ import annotations

import csv
import io
import re

from rest_framework.renderers import BaseRenderer

# A cell a spreadsheet would read as a formula (OWASP "CSV injection"): it starts with one of these.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Plain numbers (e.g. a negative longitude) are data, not formulas, and keep their sign.
_PLAIN_NUMBER_RE = re.compile(r"^-?\d+(\.\d+)?$")


def csv_cell(value) -> str:
    """One cell: ``None`` is empty, booleans are true/false, and text that a spreadsheet would evaluate as a
    formula gets a leading apostrophe (plain numbers excepted)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(_FORMULA_START) and not _PLAIN_NUMBER_RE.match(text):
        return "'" + text
    return text


class CsvRenderer(BaseRenderer):
    """Renders a page of flat rows (the view's CSV serializer) with a header row, even when there are no rows.

    The view provides the column names through ``csv_columns()``, so an empty page still has its header.
    """

    media_type = "text/csv"
    format = "csv"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        view = (renderer_context or {}).get("view")
        rows = data.get("results", []) if isinstance(data, dict) else data
        columns = view.csv_columns()
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([csv_cell(row.get(column)) for column in columns])
        return buffer.getvalue().encode(self.charset)
