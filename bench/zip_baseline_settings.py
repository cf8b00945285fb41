"""The studio's settings, with bench/zip_baseline_urls.py's extra baseline view mounted."""

from studio.settings import *  # noqa: F403

ROOT_URLCONF = "bench.zip_baseline_urls"
