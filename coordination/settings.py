"""Settings, configured from the environment (12-factor).

With no configuration the server runs on an embedded default: SQLite under ``var/``, the
in-process channel layer and Celery tasks run in-process. ``DATABASE_URL`` switches to
PostgreSQL, ``REDIS_URL`` to channels-redis, the Redis cache and real Celery workers.
"""

from __future__ import annotations

import base64
import os
import secrets
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import dj_database_url
import django_stubs_ext
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

# Lets the typed generics of Django's classes (admin.ModelAdmin[Model]) work at run time.
django_stubs_ext.monkeypatch()

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _secret_key() -> str:
    """The key from the environment, else one generated once and kept under ``var/``."""
    if key := os.environ.get("SECRET_KEY"):
        return key
    path = VAR_DIR / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


SECRET_KEY = _secret_key()


def _master_keys() -> str:
    """The master keys that wrap the data keys of stored files (see coordination/crypto.py):
    ``MASTER_KEYS`` from the environment, a comma-separated ``keyid:base64(32 bytes)`` list
    whose first key wraps and whose others still unwrap (for rotation). Without it, one key is
    generated once into ``var/master_key`` (0600), like ``SECRET_KEY``: fine for a demo, but a
    deployment sets ``MASTER_KEYS`` so that the keys are not stored beside the files."""
    if keys := os.environ.get("MASTER_KEYS", "").strip():
        return keys
    path = VAR_DIR / "master_key"
    if not path.exists():
        key_id = f"local-{secrets.token_hex(4)}"
        material = base64.b64encode(secrets.token_bytes(32)).decode("ascii")
        # Written whole into a private (0600) temporary file, then linked into place: a process
        # starting at the same moment finds either no key or the complete one, and if two
        # generate a key at once, the first link wins and both use it.
        temporary = VAR_DIR / f".master_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as file:
                file.write(f"{key_id}:{material}\n")
            os.link(temporary, path)
        except FileExistsError:
            pass
        finally:
            temporary.unlink()
    return path.read_text().strip()


MASTER_KEYS = _master_keys()
DEBUG = env_bool("DEBUG", False)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list(
    "CSRF_TRUSTED_ORIGINS", "http://localhost:8000,http://127.0.0.1:8000"
)

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "coordination",
    "coordination.accounts",
    "coordination.audit",
    "rooms",
    "cases",
    "notifications",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "coordination.context.OriginMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "coordination.urls"
ASGI_APPLICATION = "asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {
        "default": dj_database_url.parse(
            DATABASE_URL, conn_max_age=int(os.environ.get("DB_CONN_MAX_AGE", "60"))
        )
    }
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "coordination.sqlite3"),
            # Writers wait for each other instead of failing at once; the event log
            # serialises writers anyway (see coordination/events.py).
            "OPTIONS": {
                "timeout": 20,
                "transaction_mode": "IMMEDIATE",
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            },
            # A file, not memory, so that a server process started by a test shares it.
            "TEST": {"NAME": str(VAR_DIR / "test.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis: channel layer, cache, Celery ------------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            # The pub/sub layer publishes a group message once per group instead of once per
            # member channel, and queues instead of silently dropping at a channel's capacity.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": os.environ.get("CHANNEL_LAYER_PREFIX", "coordination"),
            },
        }
    }
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "coordination",
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
# Without a broker, tasks run in the process that schedules them (always after commit).
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_BEAT_SCHEDULE: dict[str, dict[str, object]] = {
    "prune-room-events": {"task": "coordination.tasks.prune_events", "schedule": 3600.0},
    # Missed check-ins of open cases (cases.alert_tasks); idempotent, so a late or doubled
    # run raises nothing twice.
    "check-missed-check-ins": {"task": "cases.check_missed_check_ins", "schedule": 3600.0},
    # Photos staged for the WebSocket (POST /api/uploads) and never posted (cases.tasks).
    "sweep-staged-uploads": {"task": "cases.tasks.sweep_staged_uploads", "schedule": 3600.0},
    # Photo files left without a photo by an upload killed mid-way (cases.tasks).
    "sweep-orphan-files": {"task": "cases.tasks.sweep_orphan_files", "schedule": 3600.0},
}
# Task modules autodiscovery (``tasks.py``) does not find.
CELERY_IMPORTS = ["cases.alert_tasks"]
# How coordination.taskqueue.enqueue runs a task after commit: "celery" (a worker, through
# Redis), "thread" (a small pool in this process: the embedded default) or "inline" (at once,
# in the committing thread: the tests).
TASKS_MODE = os.environ.get("TASKS_MODE", "celery" if REDIS_URL else "thread")
TASKS_THREADS = int(os.environ.get("TASKS_THREADS", "2"))

# --- Authentication ---------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
if os.environ.get("FAST_PASSWORD_HASHER") == "1":
    # Tests only (servers started by the test suite): hashing at full cost would dominate.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGIN_URL = "/admin/login/"
SESSION_COOKIE_SECURE = env_bool("SECURE_COOKIES", False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_AGE = int(os.environ.get("SESSION_COOKIE_AGE", str(12 * 3600)))
# Failed logins allowed per e-mail address and per client address within LOGIN_WINDOW seconds.
LOGIN_MAX_FAILURES = int(os.environ.get("LOGIN_MAX_FAILURES", "5"))
LOGIN_WINDOW = int(os.environ.get("LOGIN_WINDOW", "900"))

# --- HTTP API ---------------------------------------------------------------------------------
# The largest request body (files aside) read into memory: a message at its longest
# (rooms.models.MAX_MESSAGE_LENGTH characters, each escaped as JSON at worst) fits with room
# to spare; more is refused with "request_too_large" before it is parsed.
DATA_UPLOAD_MAX_MEMORY_SIZE = 256 * 1024
# The API answers a failed CSRF check in JSON (other pages keep Django's).
CSRF_FAILURE_VIEW = "coordination.api.csrf_failure"
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "coordination.accounts.authentication.BearerTokenAuthentication",
        "coordination.accounts.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "coordination.errors.api_exception_handler",
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON only: a form or multipart body is "unsupported_media_type", not half-parsed.
    "DEFAULT_PARSER_CLASSES": ["coordination.parsers.JSONParser"],
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Care coordination API",
    "DESCRIPTION": (
        "Secure case rooms for wound and skin follow-up. Every error answers "
        '`{"code": "...", "message": "..."}` with a stable code.'
    ),
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "PATH_CONVERTER_OVERRIDES": {"id": {"type": "integer", "format": "int64", "minimum": 1}},
    # Several models have a "status": each its own named enum in the schema.
    "ENUM_NAME_OVERRIDES": {
        "CaseStatusEnum": "cases.models.Case.Status",
        "AlertStatusEnum": "cases.models.Alert.Status",
        "MeasurementStatusEnum": "cases.models.Measurement.Status",
    },
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "coordination.schema.add_error_responses",
    ],
    # Served from the package, not a CDN: the server may have no Internet access.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Real time --------------------------------------------------------------------------------
# Threads per server process that run database work for WebSocket commands, handshakes and
# catch-ups, started as needed; each holds one database connection (the event pump has one
# more of its own). Messages posted at the same time share a transaction (group commit), at
# most one per thread waiting: with 4, 100 posts/s already queued for threads.
DB_THREADS = int(os.environ.get("DB_THREADS", "16"))
# How long room events are kept for clients that resume after a disconnection.
EVENT_RETENTION_DAYS = int(os.environ.get("EVENT_RETENTION_DAYS", "30"))
# Most events one catch-up answer carries; a client further behind pages through them.
EVENT_CATCHUP_LIMIT = int(os.environ.get("EVENT_CATCHUP_LIMIT", "5000"))


# --- Notifications: web push and SMS -----------------------------------------------------------
def _vapid_keys() -> tuple[str, str]:
    """The VAPID key pair (base64url: raw private scalar, uncompressed public point) from the
    environment, else one generated once and kept under ``var/`` (see docs/notifications.md)."""
    private, public = (
        os.environ.get("VAPID_PRIVATE_KEY", ""),
        os.environ.get("VAPID_PUBLIC_KEY", ""),
    )
    if private and public:
        return private, public
    from notifications.vapid import load_or_create

    return load_or_create(VAR_DIR / "vapid.json")


VAPID_PRIVATE_KEY, VAPID_PUBLIC_KEY = _vapid_keys()
# Push services contact this address when something is wrong with what the server sends.
VAPID_SUBJECT = os.environ.get("VAPID_SUBJECT") or "mailto:admin@localhost"
# How long a push service keeps a message for a device that is offline, in seconds.
PUSH_TTL = int(os.environ.get("PUSH_TTL", str(24 * 3600)))
PUSH_TIMEOUT = float(os.environ.get("PUSH_TIMEOUT", "10"))
# Attempts after the first one before a push to a failing endpoint is given up.
PUSH_MAX_RETRIES = int(os.environ.get("PUSH_MAX_RETRIES", "5"))
# Push services are HTTPS; plain http endpoints only where a test or a dev setup allows them
# (the server POSTs to whatever endpoint a browser registered).
PUSH_ALLOW_HTTP = env_bool("PUSH_ALLOW_HTTP", False)
# Optional allow-list of push service host suffixes (e.g. "push.services.mozilla.com,
# fcm.googleapis.com,web.push.apple.com,notify.windows.com"); empty: any https host.
PUSH_ENDPOINT_HOSTS = env_list("PUSH_ENDPOINT_HOSTS", "")

# "console" (stderr), "file" (JSON lines in VAR_DIR/sms.log) or "http" (a gateway).
SMS_BACKEND = os.environ.get("SMS_BACKEND") or "file"
SMS_HTTP_URL = os.environ.get("SMS_HTTP_URL", "")
SMS_HTTP_TOKEN = os.environ.get("SMS_HTTP_TOKEN", "")
SMS_HTTP_TIMEOUT = float(os.environ.get("SMS_HTTP_TIMEOUT", "10"))
SMS_SENDER = os.environ.get("SMS_SENDER", "")

# --- Patient links ----------------------------------------------------------------------------
# The server's public address for the links sent to patients (https://care.example.org); empty:
# the address the issuing request came to.
PUBLIC_URL = os.environ.get("PUBLIC_URL", "").rstrip("/")
# Requests to the patient endpoints, per token and per client address, within the window.
PATIENT_LINK_RATE_WINDOW = int(os.environ.get("PATIENT_LINK_RATE_WINDOW", "600"))
PATIENT_LINK_MAX_PER_TOKEN = int(os.environ.get("PATIENT_LINK_MAX_PER_TOKEN", "60"))
PATIENT_LINK_MAX_PER_IP = int(os.environ.get("PATIENT_LINK_MAX_PER_IP", "120"))

# --- Internationalisation ---------------------------------------------------------------------
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("fr", _("French")), ("es", _("Spanish"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
TIME_ZONE = "UTC"
USE_TZ = True

# --- Static and media files -------------------------------------------------------------------
_S3_OPTIONS = {"endpoint_url", "region_name", "addressing_style"}


def photo_storage_config(url: str) -> dict[str, Any]:
    """``STORAGES["photos"]`` for ``PHOTO_STORAGE_URL``.

    - empty: the filesystem under ``VAR_DIR/photos``, files 0600 and folders 0700;
    - ``file:///absolute/path``: the filesystem there, likewise private;
    - ``s3://bucket[/prefix][?endpoint_url=URL&region_name=R&addressing_style=path]``: an
      S3-compatible object store (AWS, MinIO, Ceph, ...) through django-storages, the
      credentials from the usual ``AWS_ACCESS_KEY_ID`` / ``AWS_SECRET_ACCESS_KEY`` variables
      (or the instance's role). Objects overwrite in place (the key rotation rewrites them),
      and get no ACL of their own: the bucket must be private.
    """
    if not url:
        location = VAR_DIR / "photos"
    else:
        parsed = urlsplit(url)
        if parsed.scheme == "file" and parsed.path.startswith("/") and not parsed.netloc:
            location = Path(unquote(parsed.path))
        elif parsed.scheme == "s3" and parsed.netloc and not parsed.fragment:
            query = parse_qs(parsed.query, keep_blank_values=True, strict_parsing=False)
            unknown = set(query) - _S3_OPTIONS
            if unknown or any(len(values) != 1 for values in query.values()):
                raise ImproperlyConfigured(
                    f"PHOTO_STORAGE_URL: unknown or repeated option(s) {sorted(unknown) or ''}; "
                    f"the options are {sorted(_S3_OPTIONS)}."
                )
            options: dict[str, Any] = {
                "bucket_name": parsed.netloc,
                "location": unquote(parsed.path).strip("/"),
                "file_overwrite": True,
                "default_acl": None,
                "querystring_auth": True,
            }
            options.update({key: values[0] for key, values in query.items()})
            return {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options}
        else:
            raise ImproperlyConfigured(
                "PHOTO_STORAGE_URL must be empty, file:///absolute/path or s3://bucket[/prefix]."
            )
    return {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": location,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    }


STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# WhiteNoise serves from here; it exists before the first collectstatic, empty.
STATIC_ROOT.mkdir(exist_ok=True)
STORAGES: dict[str, dict[str, Any]] = {
    "default": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": VAR_DIR / "media"},
    },
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    # Photos and their thumbnails, encrypted (coordination/crypto.py). Never served by URL:
    # the API decrypts them for a reader it has checked.
    "photos": photo_storage_config(os.environ.get("PHOTO_STORAGE_URL", "")),
}

# --- Photos -----------------------------------------------------------------------------------
# Uploaded photos larger than this (bytes) or with more pixels than this are refused
# (coordination/images.py); the pixel count is read from the header before decoding.
PHOTO_MAX_BYTES = int(os.environ.get("PHOTO_MAX_BYTES", str(30 * 1024 * 1024)))
PHOTO_MAX_PIXELS = int(os.environ.get("PHOTO_MAX_PIXELS", "50000000"))

# --- Security headers -------------------------------------------------------------------------
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_PROXY_SSL_HEADER = (
    ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("BEHIND_TLS_PROXY", False) else None
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        "daphne": {"level": "WARNING"},
        "django.channels.server": {"level": "WARNING"},
        # Tasks run in the server process without a worker: one line per task is noise there
        # (a Celery worker logs its own task lines).
        "celery.app.trace": {"level": "WARNING"},
    },
}
