"""Settings for benchmarks: the real settings plus a constant-JSON view to compare against."""

from goatedvips.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
