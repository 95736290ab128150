"""Keyset ("cursor") paging over a queryset's effective ordering: the keys, the WHERE clause, and the token.

A list's rows are ordered by :func:`ordering_keys`: the queryset's own ``order_by`` (the view's default, a client's
``ordering=`` from deals/api/query.py, or the search rank), always ending with a unique key (slug or pk) so the
order is total. A page starts after (or before, going back) a *boundary row*, named by the values of those keys;
:func:`keyset_after` is the condition "comes after the boundary in this order", NULLs placed as each key says.
Unlike an OFFSET, its cost does not grow with the depth of the page.

The token (:func:`cursor_encode`, :func:`cursor_decode`) is opaque to clients: urlsafe base64 of a small JSON
document (the boundary's key values, typed; the direction; whether the boundary row itself is included; and a
fingerprint of the list, ordering and filters the cursor was made for), then a dot and an HMAC of it keyed by the
``SECRET_KEY``, so a cursor that was altered, or that belongs to another list, ordering, search or filter set, is a
400 rather than a silently wrong page.
"""

from __future__ import annotations

import base64
import binascii
import datetime
import hashlib
import hmac
import json
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ImproperlyConfigured
from django.db.models import F, FloatField, OrderBy, Q, QuerySet
from django.db.models.functions import Cast
from django.utils.crypto import salted_hmac

# Cursors can carry a title (300 characters) and a slug, so they may be longer than other query values.
CURSOR_MAX_LENGTH = 2048
_HMAC_SALT = "deals.api.cursor"
_SIGNATURE_BYTES = 12
# A condition that matches no row: Django drops it from an OR and empties an AND without a query.
_NOTHING = Q(pk__in=[])
# Fields that identify a row on their own: an ordering that reaches one of them is total.
_UNIQUE_KEYS = ("slug", "pk", "id")


class CursorError(ValueError):
    """A cursor that cannot be used for this request; the message says why, for the client."""


@dataclass(frozen=True)
class OrderKey:
    """One ordering key: a field or annotation name, its direction, and where its NULLs go."""

    name: str
    descending: bool
    nulls_last: bool

    def flipped(self) -> OrderKey:
        """The same key in the opposite order (what paging backwards walks)."""
        return OrderKey(name=self.name, descending=not self.descending, nulls_last=not self.nulls_last)

    def order_by(self) -> OrderBy:
        """The ``order_by()`` expression of this key, with its NULL placement spelled out for every database."""
        expression = F(self.name)
        if self.descending:
            return expression.desc(nulls_last=True) if self.nulls_last else expression.desc(nulls_first=True)
        return expression.asc(nulls_last=True) if self.nulls_last else expression.asc(nulls_first=True)

    def spec(self) -> str:
        return f"{'-' if self.descending else ''}{self.name}{'' if self.nulls_last else '~nf'}"


def _key_from(item) -> OrderKey | None:
    """The key of one ``order_by`` item, or None for an expression that is not a plain field or annotation."""
    if isinstance(item, str):
        # A plain name: its column is NOT NULL in every list's ordering (slug, name, search_rank), so NULL placement
        # is moot; say "last", as deals/api/query.py does for the nullable ones.
        descending = item.startswith("-")
        return OrderKey(name=item.lstrip("-"), descending=descending, nulls_last=True)
    if isinstance(item, F):
        return OrderKey(name=item.name, descending=False, nulls_last=True)
    if isinstance(item, OrderBy) and isinstance(item.expression, F):
        return OrderKey(name=item.expression.name, descending=item.descending, nulls_last=_nulls_last(item))
    return None


def _nulls_last(item: OrderBy) -> bool:
    # Django leaves nulls_first/nulls_last unset for "the database's default"; PostgreSQL's (NULLs last ascending,
    # first descending) is taken. The lists always spell it out (deals/api/query.py).
    return bool(item.nulls_last) or (not item.nulls_first and not item.descending)


def _float_key_exact(queryset: QuerySet, key: OrderKey, *, number: int) -> tuple[QuerySet, OrderKey]:
    """A floating-point annotation (a search rank) as a double-precision key, so that its value survives the trip.

    PostgreSQL's ``ts_rank`` is a ``real``; the driver reads it as its shortest decimal (0.6822294), which is not
    the ``real`` itself, so comparing the row with that number again puts it on the wrong side of its own boundary.
    Cast to double precision, the value read is exact, and the order is the same.
    """
    annotation = queryset.query.annotations.get(key.name)
    if annotation is None or not isinstance(getattr(annotation, "output_field", None), FloatField):
        return queryset, key
    name = f"_cursor_key_{number}"
    queryset = queryset.annotate(**{name: Cast(F(key.name), FloatField())})
    return queryset, OrderKey(name=name, descending=key.descending, nulls_last=key.nulls_last)


def ordering_keys(queryset: QuerySet) -> tuple[QuerySet, list[OrderKey]]:
    """The keys ``queryset`` is ordered by (its ``order_by``, else the model's default), ending with a unique key,
    and the queryset annotated with any key that is an expression rather than a name.

    ``pk`` is appended when no key is unique on its own (slug and pk are), so that the order is total: keyset
    paging over ties would otherwise skip or repeat rows. An ordering expression (say, a rank function a search
    orders by) becomes an annotation ``_cursor_key_<n>``, so that its value can be read and compared.
    """
    items = list(queryset.query.order_by) or list(queryset.model._meta.ordering)
    keys: list[OrderKey] = []
    seen: set[str] = set()
    for number, item in enumerate(items):
        key = _key_from(item)
        if key is None:
            if isinstance(item, str) or not hasattr(item, "resolve_expression"):
                raise ImproperlyConfigured(f"Cursor pagination cannot order by {item!r}.")
            order = item if isinstance(item, OrderBy) else OrderBy(item)
            name = f"_cursor_key_{number}"
            queryset = queryset.annotate(**{name: order.expression})
            key = OrderKey(name=name, descending=order.descending, nulls_last=_nulls_last(order))
        else:
            queryset, key = _float_key_exact(queryset, key, number=number)
        if key.name not in seen:  # a key named twice orders nothing the second time
            seen.add(key.name)
            keys.append(key)
    if not seen.intersection(_UNIQUE_KEYS):
        keys.append(OrderKey(name="pk", descending=False, nulls_last=True))
    return queryset, keys


def _after_one(key: OrderKey, value) -> Q:
    """Rows whose ``key`` comes strictly after ``value`` in the key's order."""
    if value is None:
        # NULLs last: nothing comes after a NULL. NULLs first: every non-NULL value does.
        return _NOTHING if key.nulls_last else Q(**{f"{key.name}__isnull": False})
    after = Q(**{f"{key.name}__{'lt' if key.descending else 'gt'}": value})
    return after | Q(**{f"{key.name}__isnull": True}) if key.nulls_last else after


def _equal_one(key: OrderKey, value) -> Q:
    return Q(**{f"{key.name}__isnull": True}) if value is None else Q(**{key.name: value})


def keyset_after(*, keys: list[OrderKey], values: list, inclusive: bool = False) -> Q:
    """Rows after the boundary row whose key values are ``values`` (and the boundary itself if ``inclusive``).

    The lexicographic expansion ``k1 > v1 OR (k1 = v1 AND k2 > v2) OR …``, written per key so that each key keeps
    its own direction and NULL placement (a row-value comparison cannot mix directions or place NULLs).
    """
    condition = _NOTHING
    prefix = Q()
    for key, value in zip(keys, values, strict=True):
        condition |= prefix & _after_one(key, value)
        prefix &= _equal_one(key, value)
    return condition | prefix if inclusive else condition


# --- the token --------------------------------------------------------------------------------------------------


def _value_encode(value) -> list:
    """A key value as ``[type tag, text]``, so that it decodes to the same Python type the database returned."""
    if value is None:
        return ["n", ""]
    if isinstance(value, bool):
        return ["b", "1" if value else "0"]
    if isinstance(value, int):
        return ["i", str(value)]
    if isinstance(value, float):
        return ["f", repr(value)]
    if isinstance(value, Decimal):
        return ["m", str(value)]
    if isinstance(value, datetime.datetime):
        return ["t", value.isoformat()]
    if isinstance(value, datetime.date):
        return ["d", value.isoformat()]
    if isinstance(value, str):
        return ["s", value]
    raise TypeError(f"Cannot put a {type(value).__name__} in a cursor.")


_DECODERS = {
    "n": lambda text: None,
    "b": lambda text: {"1": True, "0": False}[text],
    "i": int,
    "f": float,
    "m": Decimal,
    "t": datetime.datetime.fromisoformat,
    "d": datetime.date.fromisoformat,
    "s": str,
}


def _value_decode(item):
    if not (isinstance(item, list) and len(item) == 2 and item[0] in _DECODERS and isinstance(item[1], str)):
        raise CursorError("its position is not readable.")
    try:
        return _DECODERS[item[0]](item[1])
    except (ValueError, KeyError, InvalidOperation):
        raise CursorError("its position is not readable.") from None


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _signature(payload: str) -> str:
    return _b64encode(salted_hmac(_HMAC_SALT, payload, algorithm="sha256").digest()[:_SIGNATURE_BYTES])


def list_fingerprint(*, parts: list[str]) -> str:
    """A short digest of what a cursor is valid for (the list, its ordering keys and its filters)."""
    return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class Cursor:
    """A decoded cursor: the boundary row's key values, and which way to page from it."""

    values: list
    backwards: bool
    inclusive: bool


def cursor_encode(*, cursor: Cursor, fingerprint: str) -> str:
    """The opaque token of ``cursor`` for the list with ``fingerprint``."""
    document = {
        "v": [_value_encode(value) for value in cursor.values],
        "b": int(cursor.backwards),
        "i": int(cursor.inclusive),
        "f": fingerprint,
    }
    payload = _b64encode(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))
    return f"{payload}.{_signature(payload)}"


def cursor_decode(*, token: str, fingerprint: str, keys: int) -> Cursor:
    """The cursor in ``token``, checked against the list's ``fingerprint`` and number of ordering ``keys``.

    Raises :class:`CursorError` when the token is malformed, altered (bad signature), or made for another list,
    ordering or filter set.
    """
    payload, dot, signature = token.partition(".")
    if not dot or not payload or not signature or not token.isascii():
        raise CursorError("it is not a cursor this API made.")
    if not hmac.compare_digest(signature, _signature(payload)):
        raise CursorError("it has been altered, or was not made by this API.")
    try:
        document = json.loads(_b64decode(payload).decode("utf-8"))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise CursorError("it is not a cursor this API made.") from None
    if not isinstance(document, dict) or document.get("f") != fingerprint:
        raise CursorError("it was made for another list, ordering, search or set of filters.")
    values = document.get("v")
    if not isinstance(values, list) or len(values) != keys or document.get("b") not in (0, 1):
        raise CursorError("it was made for another ordering.")
    return Cursor(
        values=[_value_decode(item) for item in values],
        backwards=bool(document["b"]),
        inclusive=bool(document.get("i")),
    )


def cursor_fingerprint(*, token: str) -> str:
    """The list fingerprint inside a token this API made (for scripts/bench_pagination.py; not checked here)."""
    return json.loads(_b64decode(token.partition(".")[0]).decode("utf-8"))["f"]
