"""gunicorn configuration for production (scripts/serve-production.sh): `gunicorn -c reexapi/gunicorn.conf.py …`.

Every value can be overridden by an environment variable (README, "Production"). Limits match the API's
documented ones (docs/api.md, "Limits"): the application reads query strings of up to REEXAPI_MAX_QUERY_STRING
(4096) bytes and answers a longer one with its JSON 400, which it can only do if gunicorn lets the request line
through, so the request line limit is gunicorn's maximum, 8190 bytes (path + query string + method + version).
"""

import multiprocessing
import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
# Sync workers: requests are short and CPU-bound (serialisation); 2 x CPUs + 1 is gunicorn's own rule of thumb.
workers = _int("GUNICORN_WORKERS", multiprocessing.cpu_count() * 2 + 1)
worker_class = "sync"
# A request never needs this long: database statements give up after REEXAPI_DB_STATEMENT_TIMEOUT_MS and Redis
# calls after REEXAPI_REDIS_TIMEOUT. This only catches a worker stuck somewhere else.
timeout = _int("GUNICORN_TIMEOUT", 30)
# On SIGTERM (or a SIGHUP reload) a worker stops accepting, finishes its requests, and is killed only after this.
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (with jitter, so they do not all restart at once): bounds any slow memory growth.
max_requests = _int("GUNICORN_MAX_REQUESTS", 10000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 1000)

# Request limits: request line up to 8190 bytes (gunicorn's maximum; the API's own limit of 4096 bytes of query
# string is below it, so the API answers with JSON), at most 100 header fields of at most 8190 bytes each.
limit_request_line = _int("GUNICORN_LIMIT_REQUEST_LINE", 8190)
limit_request_fields = _int("GUNICORN_LIMIT_REQUEST_FIELDS", 100)
limit_request_field_size = _int("GUNICORN_LIMIT_REQUEST_FIELD_SIZE", 8190)

# The application logs one JSON line per request itself (deals/request_log.py); gunicorn logs its own events and
# errors to stderr.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Only a proxy on this host may set X-Forwarded-* headers that gunicorn honours.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
