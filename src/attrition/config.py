"""Typed settings read from the environment: every setting is declared once here, with its help."""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

from attrition.config_values import SETTINGS as SETTINGS
from attrition.config_values import Setting as Setting
from attrition.config_values import SettingError as SettingError
from attrition.config_values import (
    declare,
    parse_bool,
    parse_list,
    parse_networks,
    parse_non_negative_int,
    parse_path,
    parse_positive_int,
    parse_str,
)
from attrition.config_values import writable_directory as writable_directory


def secret_key_for(data_dir: Path) -> str:
    """Return the instance's secret key, generated once and kept in the data directory."""
    key_file = data_dir / "secret_key"
    if key_file.exists():
        key = key_file.read_text().strip()
        if len(key) < 50:
            raise SettingError(f"{key_file} holds a secret key shorter than 50 characters")
        return key
    key = secrets.token_urlsafe(64)
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fh:
        fh.write(key + "\n")
    return key


DATA_DIR = declare(
    "ATTRITION_DATA_DIR",
    "./data",
    "Directory for the SQLite database, archived media, the job queue and the secret key. "
    "Created if missing; must be writable.",
    parse_path,
)
DATABASE_URL = declare(
    "DATABASE_URL",
    "",
    "Database to use. Empty means SQLite at `<data dir>/attrition.sqlite3`. Accepts "
    "`sqlite:///path` and `postgres://user:pass@host:port/db` (pooled connections).",
    parse_str,
)
DEBUG = declare(
    "ATTRITION_DEBUG",
    "false",
    "Show Django's debug pages. Never on a public instance.",
    parse_bool,
)
SECRET_KEY = declare(
    "ATTRITION_SECRET_KEY",
    "",
    "Django's secret key. Empty means: generate one on first start and keep it in "
    "`<data dir>/secret_key`. Unless ATTRITION_DEBUG is on, a key shorter than 50 characters, "
    "with fewer than 5 different characters, or copied from an example is refused.",
    parse_str,
)
ALLOWED_HOSTS = declare(
    "ATTRITION_ALLOWED_HOSTS",
    "127.0.0.1,localhost",
    "Comma-separated host names this instance answers to.",
    parse_list,
)
CSRF_TRUSTED_ORIGINS = declare(
    "ATTRITION_CSRF_TRUSTED_ORIGINS",
    "",
    "Comma-separated origins (scheme://host[:port]) trusted for form posts behind a proxy.",
    parse_list,
)
SITE_NAME = declare(
    "ATTRITION_SITE_NAME",
    "attrition",
    "Name shown in page titles and the header.",
    parse_str,
)
SQLITE_BUSY_TIMEOUT_MS = declare(
    "ATTRITION_SQLITE_BUSY_TIMEOUT_MS",
    "10000",
    "How long a SQLite writer waits for the lock before giving up, in milliseconds.",
    parse_positive_int,
)
DB_POOL_MAX = declare(
    "ATTRITION_DB_POOL_MAX",
    "10",
    "Largest number of pooled PostgreSQL connections per process.",
    parse_positive_int,
)
QUEUE_IMMEDIATE = declare(
    "ATTRITION_QUEUE_IMMEDIATE",
    "false",
    "Run jobs at once in the calling process instead of the worker (tests, debugging).",
    parse_bool,
)
WORKERS = declare(
    "ATTRITION_WORKERS",
    "2",
    "Threads of each job worker (`attrition worker`, and the one `attrition up` starts).",
    parse_positive_int,
)
WEB_WORKERS = declare(
    "ATTRITION_WEB_WORKERS",
    "2",
    "Web server (gunicorn) worker processes started by `attrition up` and `attrition serve`.",
    parse_positive_int,
)
LOG_LEVEL = declare(
    "ATTRITION_LOG_LEVEL",
    "INFO",
    "Logging level: DEBUG, INFO, WARNING or ERROR.",
    parse_str,
)
LOG_FORMAT = declare(
    "ATTRITION_LOG_FORMAT",
    "plain",
    "Log lines as plain text (plain) or as one JSON object per line (json), for log collectors.",
    parse_str,
)
FETCH_ALLOW = declare(
    "ATTRITION_FETCH_ALLOW",
    "",
    "Comma-separated networks (CIDR) that captures may fetch from although the guard refuses "
    "private, loopback and other internal addresses; for tests against local servers. Cloud "
    "metadata addresses stay refused.",
    parse_networks,
)
FETCH_MAX_BYTES = declare(
    "ATTRITION_FETCH_MAX_BYTES",
    "500000000",
    "Largest file a capture downloads over HTTP, in bytes (500 MB); larger ones are stopped.",
    parse_positive_int,
)
FETCH_TIMEOUT_S = declare(
    "ATTRITION_FETCH_TIMEOUT_S",
    "600",
    "Longest a capture's HTTP download may take in all, in seconds (connecting waits at most "
    "10 s and each read 30 s).",
    parse_positive_int,
)
CAPTURE_MAX_ATTEMPTS = declare(
    "ATTRITION_CAPTURE_MAX_ATTEMPTS",
    "4",
    "How many times a capture job is tried before it ends failed; a retry waits 30 s, then 2, 8 "
    "and 32 minutes. Refusals, missing sources, oversized files and bad media are not retried.",
    parse_positive_int,
)
CAPTURE_LEASE_S = declare(
    "ATTRITION_CAPTURE_LEASE_S",
    "1800",
    "Seconds a worker holds a running capture job; a job whose worker died is taken up again "
    "once its lease runs out (and at once when a worker starts and finds it expired).",
    parse_positive_int,
)
CAPTURE_PAGE_MEDIA = declare(
    "ATTRITION_CAPTURE_PAGE_MEDIA",
    "10",
    "Most images a capture of a web page downloads from it (its og:image first, then large "
    "images), beside the page itself and its video.",
    parse_positive_int,
)
VIDEO_FRAME_EVERY_S = declare(
    "ATTRITION_VIDEO_FRAME_EVERY_S",
    "1",
    "Seconds between the video frames a capture samples and hashes (keyframes are added).",
    parse_positive_int,
)
VIDEO_MAX_FRAMES = declare(
    "ATTRITION_VIDEO_MAX_FRAMES",
    "600",
    "Most frames sampled from one video; a longer video is sampled at a wider, even interval.",
    parse_positive_int,
)
UPLOAD_MAX_BYTES = declare(
    "ATTRITION_UPLOAD_MAX_BYTES",
    "500000000",
    "Largest file a contributor may upload, in bytes (500 MB).",
    parse_positive_int,
)
LINKROT_EVERY_DAYS = declare(
    "ATTRITION_LINKROT_EVERY_DAYS",
    "7",
    "Days between two checks of whether a piece of evidence is still online at its source.",
    parse_positive_int,
)
LINKROT_BATCH = declare(
    "ATTRITION_LINKROT_BATCH",
    "200",
    "Most sources the hourly link-rot job checks in one run, the longest unchecked first.",
    parse_positive_int,
)
LINKROT_HOST_INTERVAL_S = declare(
    "ATTRITION_LINKROT_HOST_INTERVAL_S",
    "5",
    "Least seconds between two link-rot checks on the same host.",
    parse_positive_int,
)


# --- the job queue --------------------------------------------------------------------------

QUEUE_SCHEMES = {
    "redis": "redis",
    "rediss": "redis",
    "postgres": "postgres",
    "postgresql": "postgres",
}


def parse_queue(name: str, raw: str) -> str:
    value = raw.strip()
    if value.lower() in {"", "sqlite"}:
        return "sqlite"
    parts = urlsplit(value)
    if parts.scheme.lower() not in QUEUE_SCHEMES or not parts.hostname:
        raise SettingError(
            f"{name}={raw!r} is not a queue: use sqlite, redis://host:6379/0 (rediss:// for TLS) "
            "or postgres://user:password@host:5432/dbname"
        )
    return value


def parse_queue_name(name: str, raw: str) -> str:
    value = raw.strip()
    if not value or not all(c.isascii() and (c.isalnum() or c == "_") for c in value):
        raise SettingError(f"{name}={raw!r} must be letters, digits and underscores only")
    return value


QUEUE = declare(
    "ATTRITION_QUEUE",
    "sqlite",
    "Where the job queue lives: sqlite (`<data dir>/jobs.sqlite3`, one machine), "
    "redis://[:password@]host:6379/0 (rediss:// for TLS) or postgres://user:password@host:5432/db "
    "(tables huey_*), which job workers on several machines share.",
    parse_queue,
)
QUEUE_NAME = declare(
    "ATTRITION_QUEUE_NAME",
    "attrition",
    "Name of this instance's queue (a key prefix in Redis, a column value in PostgreSQL), so "
    "that several instances can share one server.",
    parse_queue_name,
)


def queue_options(*, data_dir: Path, environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Return the Huey class and its connection settings for ATTRITION_QUEUE."""
    url = QUEUE.read(environ)
    if url == "sqlite":
        return {"huey_class": "huey.SqliteHuey", "filename": str(data_dir / "jobs.sqlite3")}
    if QUEUE_SCHEMES[urlsplit(url).scheme.lower()] == "redis":
        # Results expire after a day: nobody reads most of them, and Redis keeps them in memory.
        return {"huey_class": "huey.RedisExpireHuey", "url": url, "expire_time": 86400}
    return {"huey_class": "huey.PostgresHuey", "dsn": url}


def parse_storage(name: str, raw: str) -> str:
    value = raw.strip().lower()
    if value not in {"local", "s3"}:
        raise SettingError(f"{name}={raw!r} is not a storage: use local or s3")
    return value


STORAGE = declare(
    "ATTRITION_STORAGE",
    "local",
    "Where archived media is kept: local (the data directory's media/) or s3 (S3-compatible "
    "object storage, set by the ATTRITION_S3_* settings).",
    parse_storage,
)
S3_BUCKET = declare(
    "ATTRITION_S3_BUCKET",
    "",
    "Bucket that holds the media when ATTRITION_STORAGE=s3 (required then).",
    parse_str,
)
S3_ENDPOINT_URL = declare(
    "ATTRITION_S3_ENDPOINT_URL",
    "",
    "URL of the S3-compatible service (MinIO, Garage, Ceph, R2...); empty for AWS S3.",
    parse_str,
)
S3_REGION = declare(
    "ATTRITION_S3_REGION",
    "us-east-1",
    "Region of the bucket.",
    parse_str,
)
S3_ACCESS_KEY_ID = declare(
    "ATTRITION_S3_ACCESS_KEY_ID",
    "",
    "Access key for the bucket; empty to use boto3's usual sources (AWS_* variables, instance "
    "role).",
    parse_str,
)
S3_SECRET_ACCESS_KEY = declare(
    "ATTRITION_S3_SECRET_ACCESS_KEY",
    "",
    "Secret key that goes with ATTRITION_S3_ACCESS_KEY_ID.",
    parse_str,
)
S3_PREFIX = declare(
    "ATTRITION_S3_PREFIX",
    "",
    "Folder inside the bucket under which every object is kept (e.g. attrition/).",
    parse_str,
)


def storage_options(environ: Mapping[str, str] | None = None) -> dict[str, object]:
    """Return Django's STORAGES["default"] for the configured media storage; fail loudly."""
    if STORAGE.read(environ) == "local":
        raise ValueError("storage_options() is for object storage; local storage needs a path")
    bucket = S3_BUCKET.read(environ)
    if not bucket:
        raise SettingError("ATTRITION_STORAGE=s3 needs ATTRITION_S3_BUCKET")
    key_id, secret = S3_ACCESS_KEY_ID.read(environ), S3_SECRET_ACCESS_KEY.read(environ)
    if bool(key_id) != bool(secret):
        raise SettingError(
            "set both ATTRITION_S3_ACCESS_KEY_ID and ATTRITION_S3_SECRET_ACCESS_KEY, or neither"
        )
    options: dict[str, object] = {
        "bucket_name": bucket,
        "region_name": S3_REGION.read(environ),
        "signature_version": "s3v4",
        "location": S3_PREFIX.read(environ).strip("/"),
        # Originals are never overwritten: a name already taken gets another, which the store
        # step detects and discards.
        "file_overwrite": False,
        "default_acl": None,
        "querystring_auth": True,
    }
    if S3_ENDPOINT_URL.read(environ):
        options["endpoint_url"] = S3_ENDPOINT_URL.read(environ)
    if key_id:
        options["access_key"], options["secret_key"] = key_id, secret
    return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}


# --- accounts, rate limits, the cache and mail ------------------------------------------------

RATE_UNITS = ("s", "sec", "m", "min", "h", "hour", "d", "day")


def parse_rate(name: str, raw: str) -> str:
    value = raw.strip()
    count, sep, period = value.partition("/")
    unit = period.lstrip("0123456789")
    multiplier = period[: len(period) - len(unit)]
    if not (sep and count.isdigit() and int(count) > 0 and unit in RATE_UNITS) or (
        multiplier and int(multiplier) < 1
    ):
        raise SettingError(
            f"{name}={raw!r} is not a rate: use requests/period such as 60/min, 1000/hour or "
            "10/5min (units: s, sec, m, min, h, hour, d, day)"
        )
    return value


def parse_cache_url(name: str, raw: str) -> str:
    value = raw.strip()
    scheme, sep, rest = value.partition("://")
    if value and not (sep and scheme.lower() in {"redis", "rediss"} and rest):
        raise SettingError(
            f"{name}={raw!r} is not supported: use redis://host:6379/0, rediss://host:6379/0, "
            "or leave it empty"
        )
    return value


@dataclass(frozen=True)
class EmailOptions:
    """Django's EMAIL_* settings, as ATTRITION_EMAIL_URL gives them."""

    backend: str = "django.core.mail.backends.dummy.EmailBackend"
    host: str = "localhost"
    port: int = 25
    user: str = ""
    password: str = ""
    use_tls: bool = False
    use_ssl: bool = False


def email_options_for(name: str, url: str) -> EmailOptions:
    """Return the mail settings a mail URL gives (empty: send nothing); fail loudly on a bad one."""
    if not url:
        return EmailOptions()
    parts = urlsplit(url)
    if parts.scheme == "console":
        return EmailOptions(backend="django.core.mail.backends.console.EmailBackend")
    try:
        port = parts.port
    except ValueError:
        port = -1
    if parts.scheme not in {"smtp", "smtps"} or not parts.hostname or port == -1:
        raise SettingError(
            f"{name}={url!r} is not supported: use smtp://user:password@host:587, "
            "smtps://user:password@host:465, console:// or leave it empty"
        )
    port = port or (465 if parts.scheme == "smtps" else 587)
    return EmailOptions(
        backend="django.core.mail.backends.smtp.EmailBackend",
        host=parts.hostname,
        port=port,
        user=unquote(parts.username or ""),
        password=unquote(parts.password or ""),
        # Port 25 is a local relay, spoken in the clear; anything else is a submission port.
        use_tls=parts.scheme == "smtp" and port != 25,
        use_ssl=parts.scheme == "smtps",
    )


def parse_email_url(name: str, raw: str) -> str:
    email_options_for(name, raw.strip())
    return raw.strip()


LOGIN_FAILURE_LIMIT = declare(
    "ATTRITION_LOGIN_FAILURE_LIMIT",
    "5",
    "Failed sign-ins with one username from one address after which that username is locked "
    "out from that address, on the site's and the admin's login pages alike.",
    parse_positive_int,
)
LOGIN_COOLOFF_MINUTES = declare(
    "ATTRITION_LOGIN_COOLOFF_MINUTES",
    "30",
    "Minutes a login lockout lasts; an admin can lift it sooner with `attrition users unlock`.",
    parse_positive_int,
)
API_ANON_RATE = declare(
    "ATTRITION_API_ANON_RATE",
    "60/min",
    "Most API requests an anonymous client (one IP address) may make, such as 60/min; more are "
    "answered 429.",
    parse_rate,
)
API_USER_RATE = declare(
    "ATTRITION_API_USER_RATE",
    "600/min",
    "Most API requests one signed-in user (by session or token) may make, such as 600/min; "
    "more are answered 429.",
    parse_rate,
)
CACHE_URL = declare(
    "ATTRITION_CACHE_URL",
    "",
    "Shared cache that holds the API rate limits, as redis://[:password@]host:6379/0 (rediss:// "
    "for TLS). Empty means each web process keeps its own, so the limits are per process.",
    parse_cache_url,
)
EMAIL_URL = declare(
    "ATTRITION_EMAIL_URL",
    "",
    "Mail server for set-password links: smtp://user:password@host:587 (STARTTLS; port 25 in "
    "the clear), smtps://user:password@host:465 (TLS) or console:// (print them). Empty means "
    "no mail is sent: links are only shown to the admin who made them.",
    parse_email_url,
)
EMAIL_FROM = declare(
    "ATTRITION_EMAIL_FROM",
    "attrition@localhost",
    "Sender address of the mail attrition sends.",
    parse_str,
)
MAP_TILE_URL = declare(
    "ATTRITION_MAP_TILE_URL",
    "",
    "Tile server URL template for the territory map's background, e.g. "
    "https://tile.example.org/{z}/{x}/{y}.png. Empty means no tiles: the admin-unit outlines are "
    "the map, and no page loads anything from another server.",
    parse_str,
)
MAP_TILE_ATTRIBUTION = declare(
    "ATTRITION_MAP_TILE_ATTRIBUTION",
    "",
    "Credit line the tile server asks for, shown on the map beside the boundaries' own.",
    parse_str,
)
DATA_LICENCE = declare(
    "ATTRITION_DATA_LICENCE",
    "CC-BY-4.0",
    "Licence of the open data (SPDX id), named in the snapshot's README, the exports and the "
    "feed; the boundaries keep their own licence and attribution.",
    parse_str,
)


def cache_options() -> dict[str, object]:
    """Return Django's CACHES["default"] for ATTRITION_CACHE_URL."""
    url = CACHE_URL.read()
    if not url:
        return {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "attrition"}
    return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}


def email_options() -> EmailOptions:
    """Return the mail settings for ATTRITION_EMAIL_URL."""
    return email_options_for(EMAIL_URL.name, EMAIL_URL.read())


METRICS_TOKEN = declare(
    "ATTRITION_METRICS_TOKEN",
    "",
    "Bearer token that `/metrics` requires (`Authorization: Bearer <token>`). Empty means "
    "`/metrics` is open to anyone who can reach it: keep it off the public proxy, or set one.",
    parse_str,
)


# --- the WarSpotting sync ----------------------------------------------------------------------


def parse_http_url(name: str, raw: str) -> str:
    value = raw.strip()
    parts = urlsplit(value)
    if value and (parts.scheme.lower() not in {"http", "https"} or not parts.hostname):
        raise SettingError(f"{name}={raw!r} is not an http(s) URL such as https://host/api")
    return value.rstrip("/")


WARSPOTTING_URL = declare(
    "ATTRITION_WARSPOTTING_URL",
    "",
    "Base URL of the WarSpotting API to sync from every day (new days) and every week (all "
    "days), e.g. https://ukr.warspotting.net/api. Empty means no scheduled sync.",
    parse_http_url,
)
WARSPOTTING_CONTACT = declare(
    "ATTRITION_WARSPOTTING_CONTACT",
    "",
    "URL or e-mail address where WarSpotting can reach whoever runs this instance, sent in the "
    "sync's User-Agent (with the product name and version).",
    parse_str,
)
WARSPOTTING_RATE = declare(
    "ATTRITION_WARSPOTTING_RATE",
    "10/10s",
    "Most requests the WarSpotting sync sends in any window of that length, such as 10/10s "
    "(WarSpotting's published limit); a 429 answer's Retry-After is honoured as well.",
    parse_rate,
)


# --- HTTPS and secrets in production ---------------------------------------------------------


HTTPS = declare(
    "ATTRITION_HTTPS",
    "false",
    "The instance is reached over HTTPS (directly, or behind a reverse proxy that sets "
    "X-Forwarded-Proto: https and drops that header from clients): cookies are sent only over "
    "HTTPS and responses carry Strict-Transport-Security.",
    parse_bool,
)
HSTS_SECONDS = declare(
    "ATTRITION_HSTS_SECONDS",
    "31536000",
    "How long browsers must use HTTPS only for this host (Strict-Transport-Security max-age, "
    "in seconds; 0 sends none). Only sent when ATTRITION_HTTPS is on.",
    parse_non_negative_int,
)
# Keys copied from examples and tutorials: an attacker tries these first.
WELL_KNOWN_SECRET_KEYS = frozenset(
    {"changeme", "change-me", "secret", "secret-key", "secretkey", "your-secret-key", "dev"}
)


def secret_key_check(key: str, *, debug: bool) -> None:
    """Refuse, outside debug mode, a secret key that is short, repetitive or well known."""
    if debug or not key:
        return
    weak = ""
    if key.lower() in WELL_KNOWN_SECRET_KEYS or key.startswith("django-insecure-"):
        weak = "is a well-known example key"
    elif len(key) < 50:
        weak = f"has {len(key)} characters (at least 50 are needed)"
    elif len(set(key)) < 5:
        weak = "has fewer than 5 different characters"
    if weak:
        raise SettingError(
            f'ATTRITION_SECRET_KEY {weak}: set a long random value (python -c "import secrets; '
            'print(secrets.token_urlsafe(64))"), or unset it to have one generated and kept in '
            "the data directory"
        )
