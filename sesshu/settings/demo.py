"""The embedded default: SQLite under var/, a secret key generated on first run, loopback only.

``make demo`` uses this module. Set DATABASE_URL to run the demo on PostgreSQL instead.
"""

import secrets

import dj_database_url

from sesshu.addressee.keys import ensure_demo_keys

from .base import *  # noqa: F403
from .base import VAR_DIR
from .env import env_str

VAR_DIR.mkdir(parents=True, exist_ok=True)
# The My Number vault's keys (docs/keys.md): made under var/keys/ (0600) on first run.
SESSHU_MASTER_KEYS, SESSHU_ACTIVE_MASTER_KEY, SESSHU_BLIND_INDEX_KEY_FILE = ensure_demo_keys(VAR_DIR)


def _demo_secret_key() -> str:
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
    return path.read_text(encoding="utf-8").strip()


SECRET_KEY = _demo_secret_key()
ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]"]
DATABASES = {
    "default": dj_database_url.parse(
        env_str("DATABASE_URL", f"sqlite:///{VAR_DIR / 'sesshu.sqlite3'}"), conn_max_age=60
    )
}
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # WAL lets the server read while a batch job writes; a short wait instead of "database is locked".
    DATABASES["default"]["OPTIONS"] = {
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
    }
