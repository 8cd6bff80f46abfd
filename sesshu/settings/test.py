"""Test settings: SQLite by default, PostgreSQL when DATABASE_URL names it (CI runs both)."""

import os

import dj_database_url

from sesshu.addressee.keys import ensure_demo_keys

from .base import *  # noqa: F403
from .base import VAR_DIR

SECRET_KEY = "test-only-key-not-for-any-deployment"  # noqa: S105
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
_url = os.environ.get("DATABASE_URL") or "sqlite:///:memory:"
DATABASES = {"default": dj_database_url.parse(_url)}
if DATABASES["default"]["ENGINE"].endswith("postgresql"):
    DATABASES["default"]["TEST"] = {"NAME": os.environ.get("SESSHU_TEST_DB", "test_sesshu")}
# Argon2 is checked in its own test; the suite hashes quickly.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
WHITENOISE_AUTOREFRESH = True
# No cache between tests: a cached terminal name from one test must not leak into the next.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}

# The My Number vault's keys (docs/keys.md): made under var/keys/ (0600) on first run.
SESSHU_MASTER_KEYS, SESSHU_ACTIVE_MASTER_KEY, SESSHU_BLIND_INDEX_KEY_FILE = ensure_demo_keys(VAR_DIR)

# Background tasks run at once, inside the request or command that enqueues them.
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
