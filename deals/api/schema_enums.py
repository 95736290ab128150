"""OpenAPI enums that generate clean clients: one named component per choice set, shared by filters and responses.

drf-spectacular names the response enums (``ENUM_NAME_OVERRIDES`` in settings) but writes every filter's choices
inline, so a generated client has one enum type for the ``status`` of a response and another for the ``status=``
filter, and the 249 country codes four times. :func:`enums_share` (a postprocessing hook, after drf-spectacular's
own ``postprocess_schema_enums``) fixes that:

- a query parameter's inline enum becomes a ``$ref`` to the component with the same values, or to a new one
  (``<Resource>OrderingEnum`` for the ordering of each list, ``<Param>Enum`` otherwise);
- a nullable choice (drf-spectacular's ``oneOf: [Enum, NullEnum]``) becomes ``oneOf: [Enum, {type: "null"}]``
  (OpenAPI 3.1; no ``BlankEnum``/``NullEnum`` components);
- every enum component gets ``x-enum-varnames`` (valid identifiers, e.g. ``-amount_usd`` → ``AMOUNT_USD_DESC``)
  and ``x-enum-descriptions`` (the choices' labels).
"""

from __future__ import annotations

import re

from django_countries import countries
from drf_spectacular.plumbing import deep_import_string

BLANK_ENUM_REF = "#/components/schemas/BlankEnum"
NULL_ENUM_REF = "#/components/schemas/NullEnum"
REF_PREFIX = "#/components/schemas/"
# Labels of the enums that do not come from a model's choices.
FORMAT_LABELS = {"json": "JSON", "csv": "CSV (RFC 4180, UTF-8)", "yaml": "YAML", "geojson": "GeoJSON"}


def country_choices() -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their English names: the ``CountryCodeEnum`` of ENUM_NAME_OVERRIDES."""
    return [(code, str(name)) for code, name in countries]


def enum_varname(value: str) -> str:
    """A valid identifier, in upper case, for an enum value: ``-amount_usd`` → ``AMOUNT_USD_DESC``."""
    descending = value.startswith("-")
    name = re.sub(r"[^0-9A-Za-z]+", "_", value).strip("_").upper()
    if descending:
        name = f"{name}_DESC"
    if not name or name[0].isdigit():
        name = f"VALUE_{name}"
    return name


def _override_labels() -> dict[str, dict[str, str]]:
    """Component name → {value: label}, from the choice sets of ENUM_NAME_OVERRIDES."""
    from django.conf import settings

    labels: dict[str, dict[str, str]] = {}
    for name, path in settings.SPECTACULAR_SETTINGS.get("ENUM_NAME_OVERRIDES", {}).items():
        choices = deep_import_string(path) if isinstance(path, str) else path
        if hasattr(choices, "choices"):
            choices = choices.choices
        elif callable(choices):
            choices = choices()
        labels[name] = {str(value): str(label) for value, label in choices}
    return labels


def _ordering_label(value: str) -> str:
    return f"{value[1:]}, descending" if value.startswith("-") else f"{value}, ascending"


def _walk(node, visit) -> None:
    """Call ``visit`` on every dict of the schema tree, depth first."""
    if isinstance(node, dict):
        visit(node)
        for child in list(node.values()):
            _walk(child, visit)
    elif isinstance(node, list):
        for child in node:
            _walk(child, visit)


def _nullable_refs_rewrite(node: dict) -> None:
    """``oneOf: [Enum, NullEnum]`` → ``oneOf: [Enum, {type: "null"}]``: the OpenAPI 3.1 way of saying "this enum or
    null", which generated clients read as ``Enum | None``. A blank choice never reaches the schema (the
    serializers send null instead), so a ``BlankEnum`` is an error."""
    one_of = node.get("oneOf")
    if not isinstance(one_of, list):
        return
    if any(isinstance(item, dict) and item.get("$ref") == BLANK_ENUM_REF for item in one_of):
        raise ValueError(f"A blank choice reached the schema (send null instead): {node}")
    node["oneOf"] = [
        {"type": "null"} if isinstance(item, dict) and item.get("$ref") == NULL_ENUM_REF else item for item in one_of
    ]


def _nullable_31(node: dict) -> None:
    """An OpenAPI 3.0 ``nullable: true`` written by hand (e.g. a view's own response schema) in its 3.1 form:
    ``type: [T, "null"]`` (with null in an ``enum``), or ``oneOf: [..., {type: "null"}]`` without a type."""
    if node.get("nullable") is not True:
        return
    del node["nullable"]
    kind = node.get("type")
    if isinstance(kind, str):
        node["type"] = [kind, "null"]
        if "enum" in node and None not in node["enum"]:
            node["enum"] = [*node["enum"], None]
    elif kind is None:
        inner = {k: node.pop(k) for k in list(node) if k not in ("description", "title", "readOnly", "example")}
        node["oneOf"] = [inner, {"type": "null"}]


COUNTRY_LIST_START = "\n\n* `AF` - Afghanistan"


def _country_list_drop(node: dict) -> None:
    """drf-spectacular appends every choice to a description; for countries that is 249 lines, at each of the 6
    places a country appears. The names are in ``CountryCodeEnum``'s ``x-enum-descriptions`` instead."""
    description = node.get("description")
    if not isinstance(description, str):
        return
    if description.startswith(COUNTRY_LIST_START.lstrip()):
        node["description"] = "ISO 3166-1 alpha-2 country code; the English names are in `x-enum-descriptions`."
    elif COUNTRY_LIST_START in description:
        node["description"] = description.split(COUNTRY_LIST_START)[0]


def _enum_key(values) -> frozenset:
    return frozenset(v for v in values if v not in ("", None))


def _resource_name(operation: dict) -> str:
    """``Deal`` for the deals list (from its ``PaginatedDealList`` response), else the operation id in CamelCase."""
    ref = operation.get("responses", {}).get("200", {}).get("content", {}).get("application/json", {})
    ref = ref.get("schema", {}).get("$ref", "")
    name = ref.removeprefix(REF_PREFIX)
    if name.startswith("Paginated") and name.endswith("List"):
        return name[len("Paginated") : -len("List")]
    return "".join(part.title() for part in operation.get("operationId", "").split("_"))


def _parameter_enums_share(result: dict, schemas: dict, labels: dict[str, dict[str, str]]) -> None:
    """Replace every inline enum of a parameter by a ``$ref`` to the component with the same values."""
    by_values = {_enum_key(c["enum"]): name for name, c in schemas.items() if "enum" in c}
    for methods in result.get("paths", {}).values():
        for operation in methods.values():
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                holder, key = (schema, "items") if schema.get("type") == "array" else (parameter, "schema")
                inline = holder.get(key, {})
                if "enum" not in inline:
                    continue
                values = [v for v in inline["enum"] if v not in ("", None)]
                name = by_values.get(_enum_key(values))
                if name is None:
                    param = "".join(part.title() for part in parameter["name"].split("_"))
                    name = f"{param}Enum"
                    if parameter["name"] == "ordering" or name in schemas:
                        name = f"{_resource_name(operation)}{param}Enum"
                    if parameter["name"] == "ordering":
                        labels[name] = {v: _ordering_label(v) for v in values}
                        description = "A sort field; a leading `-` sorts descending."
                    else:
                        labels[name] = {v: FORMAT_LABELS.get(v, v) for v in values}
                        description = f"A value of the `{parameter['name']}` parameter."
                    schemas[name] = {"type": "string", "enum": values, "description": description}
                    by_values[_enum_key(values)] = name
                # Keys beside the enum (a default) stay on the parameter's schema.
                extra = {k: v for k, v in inline.items() if k not in ("type", "enum", "description")}
                ref = {"$ref": REF_PREFIX + name}
                holder[key] = {"allOf": [ref], **extra} if extra else ref


def _enum_extensions_add(schemas: dict, labels: dict[str, dict[str, str]]) -> None:
    for name, component in schemas.items():
        if "enum" not in component:
            continue
        values = [str(v) for v in component["enum"]]
        known = labels.get(name, {})
        varnames = [enum_varname(v) for v in values]
        if len(set(varnames)) != len(varnames):
            raise ValueError(f"{name}: two values give the same x-enum-varnames: {varnames}")
        component["x-enum-varnames"] = varnames
        component["x-enum-descriptions"] = [known.get(v, v) for v in values]


def enums_share(result, generator, request, public):
    """Postprocessing hook: shared enum components with ``x-enum-varnames``/``x-enum-descriptions``, nullable
    choices as ``oneOf`` with null, no ``BlankEnum``/``NullEnum`` (see the module docstring)."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    labels = _override_labels()
    _walk(result, _nullable_refs_rewrite)
    _walk(result, _nullable_31)
    _walk(result, _country_list_drop)
    _parameter_enums_share(result, schemas, labels)
    _enum_extensions_add(schemas, labels)
    schemas.pop("BlankEnum", None)
    schemas.pop("NullEnum", None)
    result["components"]["schemas"] = dict(sorted(schemas.items()))
    return result
