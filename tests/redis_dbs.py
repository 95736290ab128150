"""The local Redis databases that the test suite flushes, one per test module that needs its own.

``REEXAPI_TEST_REDIS_DB_SHIFT`` moves them all down by that many, so that two suites running at once on one machine
(CI runs the SQLite and the PostgreSQL suite side by side) never flush each other's data.
"""

import os

_SHIFT = int(os.environ.get("REEXAPI_TEST_REDIS_DB_SHIFT", "0"))


def redis_db(number: int) -> int:
    """The Redis database a module that owns database ``number`` (12 to 14) uses in this run."""
    return number - _SHIFT


def redis_url(number: int) -> str:
    """The URL of that database on the local Redis."""
    return f"redis://127.0.0.1:6379/{redis_db(number)}"
