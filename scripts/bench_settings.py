"""Benchmark-only settings (scripts/bench_api.py): the project's settings plus one extra URL conf.

Never used in production: it only adds the plain pre-rendered view the API is compared against.
"""

from reexapi.settings import *  # noqa: F403

ROOT_URLCONF = "bench_urls"
