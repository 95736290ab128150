"""Strict handling of query parameters: unknown names, NUL bytes, oversized or repeated values, ordering.

Every problem is a 400 whose JSON body is keyed by the parameter and says what is wrong and what is allowed,
and it is raised before any database query, so no client input can reach the database unchecked.
"""

from __future__ import annotations

from django.db.models import F
from django_filters import rest_framework as filters
from django_filters import utils as filter_utils
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.filters import BaseFilterBackend

from deals.api.cursor import CURSOR_MAX_LENGTH
from deals.filtersets import UNKNOWN_SLUG_CODE

# The longest value any query parameter may have (the longest slug is 120 characters)…
MAX_PARAM_LENGTH = 200
# …except these, whose values are made by the API: a cursor carries a boundary row's ordering keys (e.g. a title).
PARAM_MAX_LENGTHS = {"cursor": CURSOR_MAX_LENGTH}
ORDERING_PARAM = "ordering"


def query_params_check(*, params, allowed: set[str], repeatable: set[str]) -> None:
    """Raise a 400 for unknown, repeated, oversized or NUL-containing query parameters.

    ``params`` is a QueryDict; ``repeatable`` names the parameters that may be given several times.
    """
    errors: dict[str, list[str]] = {}
    valid = ", ".join(sorted(allowed)) or "none"
    for name in params:
        values = params.getlist(name)
        if "\x00" in name or any("\x00" in value for value in values):
            errors[name.replace("\x00", "\\x00")] = ["NUL bytes (\\x00) are not allowed in query parameters."]
            continue
        if name not in allowed:
            errors[name[:MAX_PARAM_LENGTH]] = [f"Unknown query parameter. Valid parameters: {valid}."]
            continue
        if len(values) > 1 and name not in repeatable:
            several = ", ".join(sorted(repeatable)) or "none"
            errors[name] = [f"Given {len(values)} times; only these parameters may be repeated: {several}."]
            continue
        longest = max((len(value) for value in values), default=0)
        limit = PARAM_MAX_LENGTHS.get(name, MAX_PARAM_LENGTH)
        if longest > limit:
            errors[name] = [f"Too long ({longest} characters); at most {limit} characters are allowed."]
    if errors:
        raise ValidationError(errors)


def filterset_repeatable(filterset_class) -> set[str]:
    """The filters of a FilterSet that accept several values (and so may be repeated)."""
    if filterset_class is None:
        return set()
    return {
        name
        for name, field in filterset_class.base_filters.items()
        if isinstance(field, (filters.MultipleChoiceFilter, filters.ModelMultipleChoiceFilter))
    }


class StrictFilterBackend(filters.DjangoFilterBackend):
    """django-filter's backend, except that a request whose only problem is a slug naming no record is a 404.

    The schema cannot list the valid slugs (they are data), so a well-formed unknown slug is "not found", like a
    detail URL with an unknown slug; the body has the 400's shape, keyed by the parameter. Any other problem, alone
    or together with unknown slugs, is a 400 listing them all.
    """

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is not None and not any(
            name in request.query_params for name in filterset_class.base_filters
        ):
            # No filter asked for: a FilterSet would only deep-copy its filters (a third of an uncached list's
            # time) to give the queryset back unchanged, since every filter returns it as is when empty.
            return queryset
        filterset = self.get_filterset(request, queryset, view)
        if filterset is None:
            return queryset
        if not filterset.is_valid():
            errors = filterset.form.errors.as_data()
            codes = {error.code for field_errors in errors.values() for error in field_errors}
            detail = filter_utils.translate_validation(filterset.errors).detail
            if codes == {UNKNOWN_SLUG_CODE}:
                raise NotFound(detail)
            raise ValidationError(detail)
        return filterset.qs


class StrictOrderingFilter(BaseFilterBackend):
    """``ordering=field,-other``: fields from the view's ``ordering_fields`` (a mapping of public name to model
    field), descending with ``-``; the same field named again in the other direction is ignored. Ties are always
    broken by slug, and nulls sort last in both directions on every database. Without the parameter the queryset
    keeps its order (the default, or search rank)."""

    def get_ordering(self, *, view, raw: str) -> list:
        fields: dict[str, str] = view.ordering_fields
        valid = ", ".join(f"{name}, -{name}" for name in fields)
        order: list = []
        seen: set[str] = set()
        sorted_by: set[str] = set()
        for item in raw.split(","):
            item = item.strip()
            name = item[1:] if item.startswith("-") else item
            if name not in fields:
                what = f"Unknown ordering field '{item}'" if item else "Empty ordering field"
                raise ValidationError({ORDERING_PARAM: [f"{what}. Valid fields: {valid}."]})
            if item in seen:
                raise ValidationError({ORDERING_PARAM: [f"'{item}' is given more than once."]})
            seen.add(item)
            if name in sorted_by:
                # The same field the other way round: the rows are already sorted by it, so it changes nothing.
                # Accepted (first mention wins) because OpenAPI 3.0 cannot state the rule; exact repeats are a
                # 400, as the schema's uniqueItems says.
                continue
            sorted_by.add(name)
            expression = F(fields[name])
            order.append(expression.desc(nulls_last=True) if item.startswith("-") else expression.asc(nulls_last=True))
        if "slug" not in sorted_by:
            order.append("slug")
        return order

    def filter_queryset(self, request, queryset, view):
        raw = request.query_params.get(ORDERING_PARAM)
        if raw is None:
            return queryset
        return queryset.order_by(*self.get_ordering(view=view, raw=raw))

    def get_schema_operation_parameters(self, view):
        names = list(view.ordering_fields)
        return [
            {
                "name": ORDERING_PARAM,
                "required": False,
                "in": "query",
                "description": "Sort order: one or more comma-separated fields, each descending with a leading "
                f"`-`. Fields: {', '.join(names)}. Ties are broken by slug; missing values sort last. "
                f"Default: {view.ordering_description}.",
                "schema": {
                    "type": "array",
                    "items": {"type": "string", "enum": [v for name in names for v in (name, f"-{name}")]},
                },
                "style": "form",
                "explode": False,
            }
        ]
