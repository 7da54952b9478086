"""Django settings: everything configurable comes from `attrition.config`, nothing else is read."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import dj_database_url

from attrition import config

BASE_DIR = Path(__file__).resolve().parent

# Every setting is read and checked before anything is written, so a bad value changes nothing
# (including the ones only some databases or commands use).
for _setting in config.SETTINGS.values():
    _setting.read()
_data_dir = config.DATA_DIR.read()
_secret_key = config.SECRET_KEY.read()
DEBUG = config.DEBUG.read()
config.secret_key_check(_secret_key, debug=DEBUG)
ALLOWED_HOSTS = config.ALLOWED_HOSTS.read()
CSRF_TRUSTED_ORIGINS = config.CSRF_TRUSTED_ORIGINS.read()
SITE_NAME = config.SITE_NAME.read()
WORKERS = config.WORKERS.read()
WEB_WORKERS = config.WEB_WORKERS.read()


def database_settings(url: str, *, data_dir: Path) -> dict[str, Any]:
    """Return Django's DATABASES['default'] for a DATABASE_URL, or fail with a clear message."""
    if not url:
        url = f"sqlite:///{data_dir / 'attrition.sqlite3'}"
    scheme = url.split(":", 1)[0].lower() if ":" in url else ""
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql"}:
        raise config.SettingError(
            f"DATABASE_URL={url!r} is not supported: use sqlite:///path/to/file.sqlite3 "
            "or postgres://user:password@host:5432/dbname"
        )
    try:
        db: dict[str, Any] = dict(dj_database_url.parse(url))
    except (ValueError, KeyError) as exc:
        raise config.SettingError(f"DATABASE_URL={url!r} cannot be parsed: {exc}") from None
    if db["ENGINE"] == "django.db.backends.sqlite3":
        if not db.get("NAME") or db["NAME"] == ":memory:":
            raise config.SettingError(
                f"DATABASE_URL={url!r} names no SQLite file: use sqlite:///path/to/file.sqlite3"
            )
        timeout_ms = config.SQLITE_BUSY_TIMEOUT_MS.read()
        db["OPTIONS"] = {
            "transaction_mode": "IMMEDIATE",
            "timeout": timeout_ms / 1000,
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                f"PRAGMA busy_timeout={timeout_ms}; PRAGMA foreign_keys=ON;"
            ),
        }
        # A new connection starts with an empty page cache and parses the schema again: ~10 ms
        # a request at 100,000 losses (bench/publish.py). Each process keeps its own instead.
        db["CONN_MAX_AGE"] = 600
        db["CONN_HEALTH_CHECKS"] = True
        db["TEST"] = {"NAME": str(data_dir / "test.sqlite3")}
    else:
        if not db.get("NAME"):
            raise config.SettingError(f"DATABASE_URL={url!r} names no database")
        db["ENGINE"] = "django.db.backends.postgresql"
        db["CONN_MAX_AGE"] = 0  # the pool keeps connections; Django must not hold them too
        db["OPTIONS"] = {
            # JIT compilation costs more than it saves on the ledger's short aggregate queries;
            # random_page_cost as for SSDs (the default 4 is for spinning disks, and makes the
            # planner read a whole table rather than a covering index: counts 37 -> 25 ms).
            "options": "-c jit=off -c random_page_cost=1.1",
            "pool": {"min_size": 1, "max_size": config.DB_POOL_MAX.read(), "timeout": 10},
        }
    db["ATOMIC_REQUESTS"] = False
    return db


DATABASES = {"default": database_settings(config.DATABASE_URL.read(), data_dir=_data_dir)}
_log_level = config.LOG_LEVEL.read().upper()
if _log_level not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise config.SettingError(
        f"ATTRITION_LOG_LEVEL={_log_level!r} is not one of DEBUG, INFO, WARNING, ERROR"
    )
_log_format = config.LOG_FORMAT.read().lower()
if _log_format not in {"plain", "json"}:
    raise config.SettingError(f"ATTRITION_LOG_FORMAT={_log_format!r} is not one of plain, json")
_queue_immediate = config.QUEUE_IMMEDIATE.read()

# All values are good: now create the data directory and what lives in it.
DATA_DIR = config.writable_directory(config.DATA_DIR.name, _data_dir)
MEDIA_ROOT = config.writable_directory("media directory", DATA_DIR / "media")
STATIC_ROOT = config.writable_directory("static directory", DATA_DIR / "static")
SECRET_KEY = _secret_key or config.secret_key_for(DATA_DIR)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "huey.contrib.djhuey",
    "ninja",  # the API docs from its own static files, not a CDN (the policy allows no CDN)
    "axes",
    "attrition.accounts",
    "attrition.catalog",
    "attrition.territory",
    "attrition.evidence",
    "attrition.capture",
    "attrition.dedup",
    "attrition.losses",
    "attrition.claims",
    "attrition.counting",
    "attrition.importers",
    "attrition.review",
    "attrition.site",
    "attrition.ops",
]

MIDDLEWARE = [
    "attrition.ops.requests.RequestCountMiddleware",  # first: it sees every answer, /metrics
    "django.middleware.security.SecurityMiddleware",
    "attrition.site.csp.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # ETags, 304s and CORS headers on the JSON API's reads (attrition.api.http).
    "attrition.api.http.ApiReadMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "attrition.urls"
WSGI_APPLICATION = "attrition.wsgi.application"
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "account:login"
LOGIN_REDIRECT_URL = "account:home"
LOGOUT_REDIRECT_URL = "site:home"
# The lockout backend comes first: it refuses a locked-out sign-in before any password is checked.
AUTHENTICATION_BACKENDS = [
    "attrition.accounts.backends.LockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = config.LOGIN_FAILURE_LIMIT.read()
AXES_COOLOFF_TIME = timedelta(minutes=config.LOGIN_COOLOFF_MINUTES.read())
# One username from one address: a guesser is stopped without locking a whole office out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
# Failed attempts are kept (they make the lockout); a log of every sign-in is not.
AXES_DISABLE_ACCESS_LOG = True
# Its admin pages ignore roles; `attrition users unlock` lifts a lockout.
AXES_ENABLE_ADMIN = False
AXES_VERBOSE = False  # its start-up banner would print before every CLI command
API_ANON_RATE = config.API_ANON_RATE.read()
API_USER_RATE = config.API_USER_RATE.read()
CACHES = {"default": config.cache_options()}
_email = config.email_options()
EMAIL_BACKEND = _email.backend
EMAIL_HOST, EMAIL_PORT = _email.host, _email.port
EMAIL_HOST_USER, EMAIL_HOST_PASSWORD = _email.user, _email.password
EMAIL_USE_TLS, EMAIL_USE_SSL = _email.use_tls, _email.use_ssl
EMAIL_TIMEOUT = 30
DEFAULT_FROM_EMAIL = SERVER_EMAIL = config.EMAIL_FROM.read()

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
                "attrition.site.context.site",
            ],
        },
    },
]

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
MEDIA_URL = "/media/"
STORAGES = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(MEDIA_ROOT), "base_url": MEDIA_URL},
    }
    if config.STORAGE.read() == "local"
    else config.storage_options(),
    # gzip copies beside the originals; whitenoise serves them (no manifest, so tests need no
    # collectstatic).
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = True
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
# Over HTTPS (ATTRITION_HTTPS): cookies only over HTTPS, and HSTS; the proxy says which requests
# came over HTTPS in X-Forwarded-Proto. Pages get a Content-Security-Policy (attrition.site.csp).
_https = config.HTTPS.read()
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _https
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if _https else None
SECURE_HSTS_SECONDS = config.HSTS_SECONDS.read() if _https else 0

HUEY = {
    # SqliteHuey in the data directory by default; RedisHuey or PostgresHuey (ATTRITION_QUEUE).
    **config.queue_options(data_dir=DATA_DIR),
    "name": config.QUEUE_NAME.read(),
    "immediate": _queue_immediate,
    "results": True,
    "store_none": False,
    "utc": True,
    "consumer": {"workers": WORKERS, "worker_type": "thread"},
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
        "json": {"()": "attrition.ops.logs.JsonFormatter"},
    },
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": _log_format}},
    "root": {"handlers": ["console"], "level": _log_level},
    "loggers": {"huey": {"level": "WARNING" if _log_level == "INFO" else _log_level}},
}
