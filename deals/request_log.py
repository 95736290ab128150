"""Request ids and one structured log line per request; the logging formatter and filter that go with them.

Every response carries ``X-Request-ID``: the client's (or proxy's) own when it is valid, else a new one. Valid
means 1 to 128 characters from ``A-Z a-z 0-9 - _ . : + = /`` (what UUIDs, hex tokens, base64 and the ids of common
proxies use): anything else (control characters, spaces, quotes, an oversized value) could forge or break log
lines, so it is replaced rather than echoed. Each request is logged once, as a JSON object on one line, with its id,
method, path, status, duration and number of database queries; every other record logged while it runs (a server
error's traceback included) carries the same id.
"""

from __future__ import annotations

import contextvars
import json
import logging
import re
import time
import uuid
from collections.abc import Callable

from django.db import connections
from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger("reexapi.request")

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_RE = re.compile(r"[A-Za-z0-9\-_.:+=/]{1,128}")

_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("reexapi_request_id", default="-")


def request_id_get(*, incoming: str | None) -> str:
    """The incoming id if it is valid (see the module docstring), else a new random one (32 hex digits)."""
    if incoming and REQUEST_ID_RE.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class _QueryCounter:
    """An execute wrapper that counts the statements a request sends (DEBUG not needed)."""

    def __init__(self):
        self.count = 0

    def __call__(self, execute, sql, params, many, context):
        self.count += 1
        return execute(sql, params, many, context)


class RequestLogMiddleware:
    """Outermost middleware: assigns the request id, logs one line per request, sets ``X-Request-ID``.

    Outermost so that the duration and query count cover every other middleware (the cache included) and so that
    even a response made by another middleware carries the id. It never touches the database itself.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        request_id = request_id_get(incoming=request.headers.get(REQUEST_ID_HEADER))
        request.request_id = request_id
        token = _request_id.set(request_id)
        counter = _QueryCounter()
        started = time.perf_counter()
        try:
            with connections["default"].execute_wrapper(counter):
                response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            logger.info(
                "%s %s %s",
                request.method,
                request.path,
                response.status_code,
                extra={
                    "method": request.method,
                    "path": request.path,
                    "status": response.status_code,
                    "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                    "queries": counter.count,
                },
            )
            return response
        finally:
            _request_id.reset(token)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` (the current request's, or ``-`` outside a request) to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get()
        return True


# Attributes every LogRecord has; anything else on a record came from ``extra`` and goes into the JSON line.
_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, request id, message, the ``extra`` fields, and the traceback
    (``exc_info``) as one string, so a log collector never splits an error across lines."""

    converter = time.gmtime

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "request_id": getattr(record, "request_id", "-"),
            "message": record.getMessage(),
        }
        for name, value in vars(record).items():
            if name not in _STANDARD_ATTRS and not name.startswith("_"):
                entry[name] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            entry["traceback"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)
