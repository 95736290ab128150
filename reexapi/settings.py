"""ReexAPI settings, driven by environment variables (see README.md, "Settings").

A `.env` file beside manage.py is read if present; `scripts/serve.sh` writes one with a random secret key
for local development. Production must provide `DJANGO_SECRET_KEY` itself: there is no default for it.
"""

from pathlib import Path

import environ
from csp.constants import NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

from deals.licensing import DATASET_LICENSE

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DJANGO_DEBUG", default=False)
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set. Run scripts/serve.sh once (it writes a local .env) or export it."
    )
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "csp",
    "corsheaders",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_countries",
    "simple_history",
    "import_export",
    "axes",
    "deals",
]

MIDDLEWARE = [
    # Outermost: request id and one log line per request, covering everything below (deals/request_log.py).
    "deals.request_log.RequestLogMiddleware",
    # Frees each DRF response when it is closed instead of at a full garbage collection (deals/response_cycles.py).
    "deals.response_cycles.ResponseCycleBreakMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files (admin, Swagger UI, ReDoc) with DEBUG off, from STATIC_ROOT (collectstatic); no database.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Outside the response cache, so replayed responses get the headers too.
    "csp.middleware.CSPMiddleware",
    "django_permissions_policy.PermissionsPolicyMiddleware",
    "corsheaders.middleware.CorsMiddleware",
    # Outside the rate limit and the response cache: 429s, 304s and replayed responses get rel="license" too.
    "deals.api.license_link.LicenseLinkMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # Before the response cache, so cached hits and 304s count against the API rate limit (deals/api/throttling.py).
    "deals.api.throttling.ApiRateLimitMiddleware",
    # Inside CorsMiddleware (so 304s and cached hits get CORS headers), before anything that could touch the
    # database: a 304 or a cached hit under /api/ returns from here without a query. See deals/caching.py.
    "deals.caching.ApiCacheMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes requires: turns a locked-out login into its lockout response.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "reexapi.urls"
WSGI_APPLICATION = "reexapi.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite is the embedded default; production and CI's second run use PostgreSQL via DATABASE_URL.
DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# A stalled or unreachable database must cost a request seconds, not minutes (deals/outages.py answers a 503):
# libpq gives up connecting after REEXAPI_DB_CONNECT_TIMEOUT seconds and PostgreSQL cancels any statement (lock
# waits included) after REEXAPI_DB_STATEMENT_TIMEOUT_MS. Connections are kept for REEXAPI_DB_CONN_MAX_AGE seconds
# and checked before reuse (reexapi/db/postgresql/base.py), so a killed connection is replaced at the start of the
# next request.
REEXAPI_DB_CONNECT_TIMEOUT = env.int("REEXAPI_DB_CONNECT_TIMEOUT", default=3)
REEXAPI_DB_STATEMENT_TIMEOUT_MS = env.int("REEXAPI_DB_STATEMENT_TIMEOUT_MS", default=3000)
DATABASES["default"]["CONN_MAX_AGE"] = env.int("REEXAPI_DB_CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's backend, with a check of the kept connection that needs no round trip while its socket is quiet.
    DATABASES["default"]["ENGINE"] = "reexapi.db.postgresql"
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("connect_timeout", REEXAPI_DB_CONNECT_TIMEOUT)
    DATABASES["default"]["OPTIONS"].setdefault("options", f"-c statement_timeout={REEXAPI_DB_STATEMENT_TIMEOUT_MS}")
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # How long SQLite waits for another process's write lock before "database is locked" (a 503).
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("timeout", REEXAPI_DB_STATEMENT_TIMEOUT_MS / 1000)
# After a database failure the API serves what it has cached and answers 503 (Retry-After) to the rest for this
# many seconds without trying the database again; then the next request tries again (automatic recovery).
# The fast read path's compiled statements (a list's relations, count and rows, a detail's row: deals/api/fast/)
# run as server-side prepared statements on PostgreSQL, planned once per connection. Turn off behind a pooler that
# cannot keep prepared statements (PgBouncer in transaction mode before 1.21, or without max_prepared_statements).
REEXAPI_DB_PREPARED_STATEMENTS = env.bool("REEXAPI_DB_PREPARED_STATEMENTS", default=True)
REEXAPI_DB_RETRY_AFTER = env.int("REEXAPI_DB_RETRY_AFTER", default=5)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Two caches. "default" (DRF throttling and anything else shared) and "responses" (the API's rendered-response
# cache, deals/caching.py). Local memory by default, which is per process; REDIS_URL puts both on Redis so that
# every worker and server shares them. The dataset version lives in the database, not here, so every process sees
# every write with either setting. Redis calls give up after REEXAPI_REDIS_TIMEOUT seconds; then the response
# cache is skipped for REEXAPI_CACHE_RETRY_AFTER seconds before it is tried again.
REDIS_URL = env.str("REDIS_URL", default="")
REEXAPI_REDIS_TIMEOUT = env.float("REEXAPI_REDIS_TIMEOUT", default=0.25)
REEXAPI_CACHE_RETRY_AFTER = env.int("REEXAPI_CACHE_RETRY_AFTER", default=10)
if REDIS_URL:
    _redis = {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": REDIS_URL,
        "OPTIONS": {
            "socket_connect_timeout": REEXAPI_REDIS_TIMEOUT,
            "socket_timeout": REEXAPI_REDIS_TIMEOUT,
            "retry_on_timeout": False,
        },
    }
    CACHES = {"default": _redis, "responses": {**_redis, "KEY_PREFIX": "responses"}}
else:
    CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "reexapi"},
        "responses": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "reexapi-responses",
            "OPTIONS": {"MAX_ENTRIES": env.int("REEXAPI_RESPONSE_CACHE_MAX_ENTRIES", default=2000)},
        },
    }
# HTTP caching of the API (deals/caching.py): ETags derived from the dataset version, 304s with one cheap query
# (the version row), and a rendered-response cache keyed by that version. max-age is short because revalidation
# is cheap: a client or proxy may reuse a response for a minute, then asks again and gets a 304 unless the dataset
# changed.
REEXAPI_API_CACHE_PREFIX = "/api/"
# Pages outside /api/ that are, like the API, a function of the dataset version and the code only (no cookies, no
# session): the landing page. They get the same ETags, 304s and response cache.
REEXAPI_CACHED_PAGES = ("/",)
# The public address of the site (scheme and host, no trailing slash): dataset releases are made by a command, not
# a request, and build the records' absolute URLs (records.jsonl) and the package's homepage on it.
REEXAPI_PUBLIC_URL = env.str("REEXAPI_PUBLIC_URL", default="http://127.0.0.1:8000").rstrip("/")
# Paths under /api/ whose answers depend on the code only, never on the dataset: keyed without the dataset version.
REEXAPI_API_DATASET_INDEPENDENT_PATHS = ("/api/schema/", "/api/docs/", "/api/redoc/")
REEXAPI_API_CACHE_MAX_AGE = env.int("REEXAPI_API_CACHE_MAX_AGE", default=60)
REEXAPI_RESPONSE_CACHE = env.bool("REEXAPI_RESPONSE_CACHE", default=True)
# PostgreSQL: each process learns the dataset version by LISTEN/NOTIFY instead of reading it on every request
# (deals/version_listener.py); false reads it on every request (strict read-after-write across processes). The
# heartbeat re-reads it after that many seconds without a notification; the listener is trusted while it heard from
# the database within two heartbeats. 1 s: a degraded listener can hide another process's write for 2 s at most, at
# the price of one tiny query per second per process.
REEXAPI_DATASET_VERSION_LISTEN = env.bool("REEXAPI_DATASET_VERSION_LISTEN", default=True)
REEXAPI_DATASET_VERSION_HEARTBEAT = env.float("REEXAPI_DATASET_VERSION_HEARTBEAT", default=1.0)
# Entries of an old dataset version are unreachable, never deleted: this lets them expire.
REEXAPI_RESPONSE_CACHE_TIMEOUT = env.int("REEXAPI_RESPONSE_CACHE_TIMEOUT", default=300)
# The bound on the response cache (Redis here evicts nothing): at most REEXAPI_RESPONSE_CACHE_BUDGET bytes of new
# entries are stored per REEXAPI_RESPONSE_CACHE_WINDOW seconds, across all servers; past it, responses are served
# but not stored until the next window. So the cache never holds more than
# budget x (timeout / window + 1) bytes of responses: 8 MiB x 6 = 48 MiB with the defaults.
REEXAPI_RESPONSE_CACHE_BUDGET = env.int("REEXAPI_RESPONSE_CACHE_BUDGET", default=8 * 1024 * 1024)
REEXAPI_RESPONSE_CACHE_WINDOW = env.int("REEXAPI_RESPONSE_CACHE_WINDOW", default=60)
# Rendered records of the fast read path kept per process for the current dataset version, in bytes of JSON
# (deals/api/fast/record_cache.py); 0 turns it off. 4 MiB holds the list and detail records of about 600 deals, or
# the list records of 1,700, and adds about as much to each worker's memory.
REEXAPI_RECORD_CACHE_BYTES = env.int("REEXAPI_RECORD_CACHE_BYTES", default=4 * 1024 * 1024)
# The longest query string the API reads (a JSON 400 keyed by "query" above it). It is below the server's request
# line limit (reexapi/gunicorn.conf.py: 8190 bytes), so the application, not gunicorn, answers it.
REEXAPI_MAX_QUERY_STRING = env.int("REEXAPI_MAX_QUERY_STRING", default=4096)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Configurable so that two checkouts' test runs (CI runs SQLite and PostgreSQL at once) never collect into one folder.
STATIC_ROOT = Path(env.str("REEXAPI_STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
# WhiteNoise serves STATIC_ROOT (filled by `manage.py collectstatic`, which the setup scripts run) with DEBUG off,
# under hashed names cached for a year. Tests use plain storage, so that they need no collectstatic first.
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": env.str(
            "REEXAPI_STATICFILES_STORAGE", default="whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# The admin stays same-origin: session and CSRF cookies are never sent cross-site.
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- Production serving (README, "Production") ------------------------------------------------------------------
# Behind a TLS-terminating proxy that sets X-Forwarded-Proto (and strips it from clients): trust it, so that
# request.is_secure() (HSTS, secure redirects, absolute https:// links) follows the client's scheme.
if env.bool("DJANGO_TRUST_X_FORWARDED_PROTO", default=False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
# HSTS is only ever sent on HTTPS responses (SecurityMiddleware); 0 turns it off.
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# No page opens or is opened by a cross-origin window: the docs have no OAuth login popup (the API has no
# authentication), so they get same-origin like the admin (reexapi/urls.py).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy on every response (django-csp). Everything comes from this server: Swagger UI and ReDoc
# from drf-spectacular-sidecar's static files, their start-up code from static files of our own (no inline
# script). Inline styles stay allowed: Swagger UI and ReDoc (styled-components) set them at run time. ReDoc runs
# its search index in a blob: worker.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF, UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "worker-src": [SELF, "blob:"],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# Powerful browser features no page of ours uses (django-permissions-policy).
PERMISSIONS_POLICY = {
    feature: []
    for feature in (
        "accelerometer",
        "camera",
        "geolocation",
        "gyroscope",
        "magnetometer",
        "microphone",
        "payment",
        "usb",
        "browsing-topics",
    )
}

# Every server error goes to stderr with its traceback; each request is one JSON line (deals/request_log.py).
# Lines are JSON unless REEXAPI_LOG_FORMAT=text (easier to read at a terminal).
REEXAPI_LOG_FORMAT = env.str("REEXAPI_LOG_FORMAT", default="json")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request_id": {"()": "deals.request_log.RequestIdFilter"}},
    "formatters": {
        "json": {"()": "deals.request_log.JsonFormatter"},
        "text": {"format": "%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"},
    },
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
            "filters": ["request_id"],
            "formatter": "text" if REEXAPI_LOG_FORMAT == "text" else "json",
        }
    },
    "root": {"handlers": ["stderr"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    "loggers": {
        # Server errors (with traceback) come from django.request; 4xx are in the request line already.
        "django.request": {"level": "ERROR"},
        # runserver's own access log would repeat the request line.
        "django.server": {"level": "WARNING"},
        "reexapi.request": {"level": env.str("REEXAPI_REQUEST_LOG_LEVEL", default="INFO")},
    },
}
ADMINS = [("Operator", address) for address in env.list("DJANGO_ADMINS", default=[])]

# --- API (issue: public read API v1) -------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "deals.api.schema.ApiAutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": ["deals.api.renderers_json.FastJSONRenderer"],
    # Accept parameters never change a response (deals/api/negotiation.py), so the cache keys on the renderer.
    "DEFAULT_CONTENT_NEGOTIATION_CLASS": "deals.api.negotiation.RendererMediaTypeNegotiation",
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.AllowAny"],
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    # Decimals stay strings ("10000000.00"): exact, and what the schema documents.
    "COERCE_DECIMAL_TO_STRING": True,
}

# --- Abuse limits (issue 8 §3) -------------------------------------------------------------------------------
# Requests per client IP under /api/, every answer counted (cached hits and 304s too); `off` disables.
# 600/minute (10/s sustained, bursts allowed within the minute) is far above what an app paging through the
# dataset needs, and stops a scraper sending unique query strings after 600 uncached requests.
REEXAPI_API_RATE_LIMIT = env.str("REEXAPI_API_RATE_LIMIT", default="600/minute")
# How many proxies of ours append to X-Forwarded-For in front of the app; 0 ignores the header (the default: a
# client could forge it). Used by the API rate limit and the admin's login lockout (deals/client_ip.py).
REEXAPI_TRUSTED_PROXIES = env.int("REEXAPI_TRUSTED_PROXIES", default=0)
# DRF's own client-IP helper (BaseThrottle.get_ident), should anything use it, trusts the same number of proxies.
REST_FRAMEWORK["NUM_PROXIES"] = REEXAPI_TRUSTED_PROXIES

# Admin login brute-force protection (django-axes): after AXES_FAILURE_LIMIT wrong passwords for one username from
# one IP, that combination is locked out for AXES_COOLOFF_TIME hours (a 429 page, logged as a warning by the
# "axes" logger); `manage.py axes_reset_username <name>` or `axes_reset_ip <ip>` unlocks early. A success resets
# the count, so an editor who mistypes once or twice is never locked out.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("REEXAPI_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("REEXAPI_LOGIN_LOCKOUT_HOURS", default=1.0)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "deals.client_ip.client_ip_get"
AXES_HTTP_RESPONSE_CODE = 429
# Log lines name the username and IP (an operator needs them to unlock, and the admin's "Access attempts" shows them
# anyway); passwords are always masked.
AXES_SENSITIVE_PARAMETERS: list[str] = []

VALIDATION_ERROR_SCHEMA = {
    "type": "object",
    "description": "A 400: each key is the offending query parameter, each value the list of problems with it, "
    "saying what is wrong and what is allowed.",
    "additionalProperties": {
        "type": "array",
        "description": "Problems with this parameter.",
        "items": {"type": "string", "description": "One problem, in English."},
    },
    "example": {
        "status": ["'pending' is not a valid deal status. Allowed: announced, non_binding, signed, closed, terminated."]
    },
}

API_DESCRIPTION = """Open API of critical-mineral deals (rare earths, magnets, graphite, lithium, battery materials).
Every deal, company and facility links to the verbatim passage of the source article that supports it
(`provenance`: the source in brief, the quote, its offsets in the source's normalised text, and the fields it
supports).

**Read-only.** Every endpoint answers GET (and HEAD/OPTIONS); writes get 405. No authentication.

**Not stated is null.** A choice, a code, a date or a figure the sources do not state is `null`, never `""`
(e.g. `value_qualifier`, `currency`, `announced_date_precision`, `capacity_unit`); every field of a response is
always present. Free text (titles, descriptions, localities) is `""` when empty. Choices are named enums shared by
filters and responses (`x-enum-varnames`, `x-enum-descriptions`); country codes are one enum, `CountryCodeEnum`.

**Numbers.** Money, capacities and coordinates are decimal strings with a fixed number of decimals, exactly as
each field's `pattern` says (e.g. `"10000000.00"`): exact, never a binary float. The USD filters take a plain
decimal string with at most 2 decimals (`value_usd_min=1250000.50`); anything else (`0.30000000000000004`,
`1e6`) is a 400 naming the parameter, never silently rounded.

**Caching.** Every 200 carries a strong `ETag` and `Cache-Control: public, max-age=60`; a request with
`If-None-Match` naming the current ETag gets a 304 without a body.

**Identifiers.** Records are addressed by `slug`; related records appear as brief objects with `slug`,
`name` or `title`, and `url` (the absolute API URL of their detail).

**Filters.** Choice, slug and country filters take several values, repeated (`?status=signed&status=closed`)
or comma-separated (`?status=signed,closed`); a record matches if it matches any of them. Different filters
combine with AND. Dates are exactly `YYYY-MM-DD` and inclusive. An empty filter value (`?status=`) is no filter;
empty `page`, `page_size`, `ordering` or `format` is a 400.

**Search.** `q` splits into terms (runs of letters and digits; everything else separates terms). A record
matches when every term equals, case-insensitively, a whole word of one of the searched fields (names, titles,
summaries or descriptions, aliases, evidence quotes). No stemming, no prefix matching. Punctuation always
separates words, in the query and in the text alike: `U.S.` is the two terms `u` and `s`, `3.5` is `3` and `5`.
On PostgreSQL this is full-text search (`simple` configuration, on the text with punctuation turned into spaces)
ranked by relevance when no `ordering` is given; on SQLite the same matching is done with whole-word regular
expressions and results keep the default order. Both databases give the same matches. A `q` without any
letter or digit has no terms and is no filter, like an empty one.

**Ordering.** `ordering` takes comma-separated fields, `-` for descending; ties are always broken by slug and
missing values sort last. An item given twice is a 400; a field given again the other way is ignored (the first
mention decides).

**Pagination.** `page` (from 1) and `page_size` (default 25, maximum 100). A page past the end is a 404.
Responses carry `count`, `next`, `previous`, `results` and an RFC 8288 `Link` header.

**Formats.** JSON by default. Lists also serve CSV (`?format=csv` or `Accept: text/csv`), with flat columns,
lists semicolon-joined, and spreadsheet formula injection neutralised (cells starting with `=`, `+`, `-`, `@`,
TAB or CR get a leading apostrophe; plain numbers excepted). Details and the index are JSON only
(`?format=csv` there is a 400, `Accept: text/csv` a 406).

**Errors.** Every error is JSON. A client's mistake is a 400 whose body is keyed by the offending parameter,
each with a list of messages saying what is wrong and what is allowed: invalid values, unknown choices, unknown
parameters (the message lists the valid ones), unknown ordering fields, parameters repeated that take one value,
NUL bytes, values longer than 200 characters, page sizes above the maximum. Unknown paths and slugs are a 404
(`{"detail": ...}`); a filter naming a slug of no record is a 404 keyed by the parameter, like a 400. Any method
but GET, HEAD and OPTIONS is a 405 with `Allow` (`GET, HEAD, OPTIONS`), whatever the query string.
406: the `Accept` header names no format served; 503: the database is unavailable (`Retry-After`).

**Rate limits.** Each client IP may send a number of requests per window (default 600 per minute; every answer
counts, cached ones too). Every response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`
(seconds until the window ends); past the limit the answer is a 429 with `Retry-After`.

**Licences.** The data (records, quotes as published here, editors' text) is under CC BY 4.0 (`info.license`);
the source articles stay their publishers'. The code of ReexAPI is under the Apache License 2.0.

**Changes.** The API's changelog is the "Changelog" section of docs/api.md.
"""

# The public base URL of this deployment: the OpenAPI `servers` entry (generated clients' default base URL).

SPECTACULAR_SETTINGS = {
    "TITLE": "ReexAPI",
    "DESCRIPTION": API_DESCRIPTION,
    "VERSION": "1.0.0",
    "LICENSE": {"name": DATASET_LICENSE["name"], "url": DATASET_LICENSE["url"]},
    "CONTACT": {"name": "ReexAPI editors", "url": f"{REEXAPI_PUBLIC_URL}/"},
    "TAGS": [
        {"name": "index", "description": "The API root: links to every collection and to the documentation."},
        {
            "name": "deals",
            "description": "Funding rounds, offtakes, MOUs, grants, acquisitions, plant investments and government "
            "agreements, each with its parties, commodities, stages, countries and the quotes that support it.",
        },
        {"name": "companies", "description": "Companies, state-owned enterprises, governments and agencies."},
        {
            "name": "facilities",
            "description": "Mines, separation plants, refineries, magnet and battery-materials plants.",
        },
        {"name": "sources", "description": "The documents every public fact is quoted from, with their digests."},
        {"name": "commodities", "description": "The commodity vocabulary: elements, groups, materials, products."},
        {
            "name": "search",
            "description": "One full-text search across deals, companies, facilities and commodities, ranked, each "
            "hit with a highlighted fragment of the text that matched.",
        },
        {
            "name": "changes",
            "description": "The change feed: every public change to a deal, company or facility, oldest first, "
            "resumed from a cursor (`since`); each record's own history is under `<record>/history/`.",
        },
        {
            "name": "stats",
            "description": "Aggregates of deals and facilities: counts and summed values per group, with the same "
            "filters as the lists.",
        },
        {
            "name": "releases",
            "description": "Immutable dataset releases (Frictionless Data Packages) and their files, with SHA-256 "
            "checksums; `latest` names the newest.",
        },
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "OAS_VERSION": "3.1.0",
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The shape of every 400 body; deals.api.schema documents it and the views reference it.
    "APPEND_COMPONENTS": {"schemas": {"ValidationError": VALIDATION_ERROR_SCHEMA}},
    "ENUM_NAME_OVERRIDES": {
        "CommodityKindEnum": "deals.models.Commodity.Kind",
        "CompanyKindEnum": "deals.models.Company.Kind",
        "FacilityKindEnum": "deals.models.Facility.Kind",
        "FacilityStatusEnum": "deals.models.Facility.Status",
        "SourceKindEnum": "deals.models.Source.Kind",
        "DealTypeEnum": "deals.models.Deal.Type",
        "DealStatusEnum": "deals.models.Deal.Status",
        "DealPartyRoleEnum": "deals.models.DealParty.Role",
        "FacilityCompanyRoleEnum": "deals.models.FacilityCompany.Role",
        "DatePrecisionEnum": "deals.models.DatePrecision",
        "ValueQualifierEnum": "deals.models.ValueQualifier",
        "LocationPrecisionEnum": "deals.models.Facility.LocationPrecision",
        "CapacityPeriodEnum": "deals.models.Facility.CapacityPeriod",
        "SegmentEnum": "deals.models.SupplyChainStage.Segment",
        "InstrumentEnum": "deals.models.Deal.Instrument",
        "PriceUnitEnum": "deals.models.Deal.PriceUnit",
        "TermUnitEnum": "deals.models.Deal.TermUnit",
        "CountryCodeEnum": "deals.api.schema_enums.country_choices",
    },
    "SORT_OPERATION_PARAMETERS": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "deals.api.schema.query_parameters_constrain",
        # After drf-spectacular's enum hook: filters and responses share one component per choice set.
        "deals.api.schema_enums.enums_share",
        "deals.api.schema_headers.responses_headers_declare",
    ],
}

# Third-party browser apps may read the public API from any origin, without credentials; nothing else is CORS-exposed.
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_METHODS = ["GET", "HEAD", "OPTIONS"]
# A browser app may revalidate with If-None-Match itself, and read the ETag it got, the pagination links in Link and
# the rate limit's headers (none is a CORS-safelisted response header).
CORS_ALLOW_HEADERS = ["accept", "accept-language", "content-type", "if-none-match", "user-agent", "x-requested-with"]
CORS_EXPOSE_HEADERS = ["ETag", "Link", "Retry-After", "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"]

# --- History (django-simple-history) -----------------------------------------------------------------------
SIMPLE_HISTORY_REVERT_DISABLED = False

# Editors paste article texts of up to 5 MB (deals.forms.MAX_UPLOAD_BYTES) into the "Add source" form; Django's
# 2.5 MB default for non-file request data would answer such a paste with a bare 400 page before the form could
# say anything. 6 MiB leaves room for the form's other fields; above it Django still refuses the request.
DATA_UPLOAD_MAX_MEMORY_SIZE = 6 * 1024 * 1024
