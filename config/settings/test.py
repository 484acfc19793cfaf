"""Test settings: the base settings with a fast hasher, eager Celery and in-memory mail.

DATABASE_URL and REDIS_URL still apply, so CI runs the same tests on PostgreSQL and Redis.
"""

import os
import time

from .base import *  # noqa: F403
from .base import env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Tests share one Redis in CI: a prefix per run keeps throttle counts and nonces apart.
# Server processes a test starts get the test's prefix (TEST_CACHE_KEY_PREFIX) to share state.
CACHES["default"]["KEY_PREFIX"] = env(  # noqa: F405
    "TEST_CACHE_KEY_PREFIX", default=f"test-{os.getpid()}-{time.time_ns()}"
)
AGENT_PROVISION_RATE_LIMIT = "10000/min"
# Warnings and errors to stderr: a server process a test starts shows its tracebacks.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
