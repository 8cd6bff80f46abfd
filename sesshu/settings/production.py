"""Production: PostgreSQL from DATABASE_URL, secrets from files, HTTPS only. Refuses to start without them."""

import dj_database_url

from sesshu.addressee.keys import parse_master_keys

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_list, env_str

SECRET_KEY = env_str("SESSHU_SECRET_KEY")  # or SESSHU_SECRET_KEY_FILE: a 0600 file
ALLOWED_HOSTS = env_list("SESSHU_ALLOWED_HOSTS")
DATABASES = {"default": dj_database_url.parse(env_str("DATABASE_URL"), conn_max_age=60)}
SESSHU_TRUSTED_PROXIES = env_list("SESSHU_TRUSTED_PROXIES")
SESSION_COOKIE_SECURE = env_bool("SESSHU_HTTPS", True)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env_int("SESSHU_HSTS_SECONDS", 0)
CSRF_TRUSTED_ORIGINS = env_list("SESSHU_CSRF_TRUSTED_ORIGINS")

# The My Number vault (docs/keys.md): master keys from files named here, never from the database.
SESSHU_MASTER_KEYS = parse_master_keys(env_str("SESSHU_MASTER_KEYS"))  # "id:/path,id2:/path2"
SESSHU_ACTIVE_MASTER_KEY = env_str("SESSHU_ACTIVE_MASTER_KEY")
SESSHU_BLIND_INDEX_KEY_FILE = env_str("SESSHU_BLIND_INDEX_KEY_FILE")
