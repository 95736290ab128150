"""The editors' admin: every dataset model with history (revert), CSV/JSON export and, where allowed, import.

Counts on changelists are annotated in ``get_queryset`` (one query per page, whatever the page size), related
records are chosen with autocomplete widgets, and every rule an editor can break is a form error: quotes are
located by :mod:`deals.forms` with the loader's own function, and the database constraints are validated by the
model forms before anything is written. Annotated querysets are ordered explicitly: a GROUP BY query drops the
model's default ordering, and the autocomplete views page through these querysets. Permissions come from the
``Editors`` group (see :func:`deals.editing.editors_group_ensure`).

One module per area: :mod:`deals.admin.base` (shared widgets and mixins), :mod:`deals.admin.inlines`, and one
module per record type. Importing the package registers every admin.
"""

from deals.admin import companies, deals, evidence, facilities, releases, sources, vocabulary  # noqa: F401  (registers)
