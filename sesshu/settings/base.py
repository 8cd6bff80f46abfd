"""Settings shared by every deployment. Deployment-specific modules import * from here."""

from pathlib import Path

from .env import env_int, env_str

BASE_DIR = Path(__file__).resolve().parent.parent  # the sesshu package
PROJECT_DIR = BASE_DIR.parent
VAR_DIR = Path(env_str("SESSHU_VAR_DIR", str(PROJECT_DIR / "var")))

DEBUG = False

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "sesshu.core",
    "sesshu.audit",
    "sesshu.accounts",
    "sesshu.residents",
    "sesshu.addressee",
    "sesshu.immunization",
    "sesshu.portal",
    "sesshu.demo",
    "django_tasks",
    "django_tasks_db",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "sesshu.core.middleware.ChosenLanguageMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "sesshu.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "sesshu.accounts.middleware.IdleLogoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sesshu.urls"
WSGI_APPLICATION = "sesshu.wsgi.application"
AUTH_USER_MODEL = "accounts.Staff"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "sesshu.accounts.context_processors.staff_rights",
                "sesshu.accounts.otp.number_use_context",
            ],
        },
    }
]

# Passwords: argon2 first (the seeds ask for strong authentication); rules a city's policy expects.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {"NAME": "sesshu.accounts.validators.CharacterClassValidator"},
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "portal:home"
LOGOUT_REDIRECT_URL = "accounts:login"

# Lockout after repeated failures (django-axes): per user name and address.
AXES_FAILURE_LIMIT = env_int("SESSHU_LOCKOUT_FAILURES", 5)
AXES_COOLOFF_TIME = env_int("SESSHU_LOCKOUT_MINUTES", 30) / 60  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "sesshu.accounts.views.locked_out"
AXES_VERBOSE = False

# Second factor (TOTP) for My Number work (sesshu/accounts/otp.py, docs/two-factor.md).
OTP_TOTP_ISSUER = env_str("SESSHU_OTP_ISSUER", "sesshu")
OTP_TOTP_THROTTLE_FACTOR = 1  # django-otp's back-off after each wrong code: 1, 2, 4 … seconds
OTP_ADMIN_HIDE_SENSITIVE_DATA = True  # the admin never shows a device's key or QR code
SESSHU_OTP_FAILURE_LIMIT = env_int("SESSHU_OTP_FAILURE_LIMIT", 5)
SESSHU_OTP_LOCKOUT_MINUTES = env_int("SESSHU_OTP_LOCKOUT_MINUTES", 30)

# Sessions: logged out after this many idle seconds (the seeds' 自動ログオフ); closed with the browser.
SESSHU_IDLE_TIMEOUT_SECONDS = env_int("SESSHU_IDLE_TIMEOUT_SECONDS", 15 * 60)
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_AGE = 12 * 60 * 60
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"

# Language: Japanese by default, English on request (the language switch in the header).
LANGUAGE_CODE = "ja"
LANGUAGES = [("ja", "日本語"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "Asia/Tokyo"
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

# Search results per page on screens and in the API (the API caps what a caller may ask for).
SESSHU_PAGE_SIZE = 20
SESSHU_API_MAX_PAGE_SIZE = 100

# Requests from these addresses may name the client in X-Forwarded-For (a reverse proxy).
SESSHU_TRUSTED_PROXIES: list[str] = []

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Never log request parameters: they may carry names, addresses or numbers.
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
    },
}

# The audit log names the designated terminal (accounts.Terminal) a request came from.
SESSHU_TERMINAL_RESOLVER = "sesshu.accounts.terminals.terminal_name"

# Consumers of the resident register's outbox (庁内連携 inside sesshu): name -> handler.
SESSHU_REGISTER_CONSUMERS = {
    "addressee": "sesshu.addressee.consumers.on_register_events",
    "mynumber": "sesshu.addressee.consumers_mynumber.on_register_events",
    "immunization": "sesshu.immunization.consumers.on_register_events",
}

# The city, as printed on certificates (住民票の写し) and notices.
SESSHU_CITY_NAME = env_str("SESSHU_CITY_NAME", "東和県桜ヶ丘市")
SESSHU_MAYOR_TITLE = env_str("SESSHU_MAYOR_TITLE", "桜ヶ丘市長")
# 全国地方公共団体コード (6 digits with its check digit): the first digits of every ticket number
# (接種券番号, docs/notices.md). 992011 is fictional (prefecture 99 does not exist), for the demo city.
SESSHU_MUNICIPALITY_CODE = env_str("SESSHU_MUNICIPALITY_CODE", "992011")
# A TrueType font with Japanese glyphs for PDFs; empty: Debian's IPAex fonts (fonts-ipaexfont-*).
SESSHU_PDF_FONT = env_str("SESSHU_PDF_FONT", "")

# Who issues a new resident's My Number. The simulator is for the demo and tests only; a city
# connects its 住基ネット CS here.
SESSHU_MYNUMBER_ISSUER = "sesshu.residents.mynumber_issuer.LocalIssuerSimulator"

# How long the register keeps people who left it (the Tokorozawa assessment: 150 years).
SESSHU_REGISTER_RETENTION_YEARS = env_int("SESSHU_REGISTER_RETENTION_YEARS", 150)

# Background work (django-tasks with its database backend: the queue is the database). Extraction
# batches started on screen wait here until `sesshu db_worker` runs them (docs/notices.md).
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
