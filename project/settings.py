"""Kefu settings, read from the environment (see README and .env.example).

Two run modes share this file: the embedded mode (no KEFU_DATABASE_URL /
KEFU_REDIS_URL: SQLite, in-memory channel layer, tasks in-process) and the
production mode (PostgreSQL, Redis, Celery worker and beat).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


KEFU_ENV = os.environ.get("KEFU_ENV", "development")
if KEFU_ENV not in {"development", "production"}:
    raise ImproperlyConfigured("KEFU_ENV must be 'development' or 'production'")
PRODUCTION = KEFU_ENV == "production"
DEBUG = env_bool("KEFU_DEBUG", default=not PRODUCTION)

SECRET_KEY = os.environ.get("KEFU_SECRET_KEY", "")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured(
            "KEFU_SECRET_KEY is required when KEFU_ENV=production; refusing to start."
        )
    SECRET_KEY = "kefu-development-only-insecure-key"  # never used in production

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("KEFU_ALLOWED_HOSTS", "127.0.0.1,localhost,testserver").split(",")
    if h.strip()
]
SITE_URL = os.environ.get("KEFU_SITE_URL", "http://127.0.0.1:8000").rstrip("/")
CSRF_TRUSTED_ORIGINS = [SITE_URL]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "viewflow",
    "viewflow.workflow",
    "customers",
    "tickets",
    "flows",
    "complaints",
    "surveys",
    "outbox",
    "notifications",
    "web",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Static files from the ASGI server itself (uvicorn serves no files of its own).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]

# --- database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("KEFU_DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("KEFU_SQLITE_PATH", str(BASE_DIR / "kefu.sqlite3")),
            # IMMEDIATE transactions serialise writers instead of failing a
            # flow lock upgrade with "database is locked" (see VIEWFLOW.md §4).
            "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USING_POSTGRES = DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"

# --- redis: cache, channel layer, celery ---------------------------------------
REDIS_URL = os.environ.get("KEFU_REDIS_URL", "")


def _next_redis_db(url: str) -> str:
    """The cache lives in the next Redis database: clearing it never touches the broker."""
    parts = urlparse(url)
    index = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{index + 1}").geturl()


if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ.get("KEFU_CACHE_URL") or _next_redis_db(REDIS_URL),
            "KEY_PREFIX": "kefu",
        }
    }
    # KEFU_CHANNEL_LAYER picks channels_redis' pub/sub layer (the default) or the core layer;
    # docs/realtime.md has the measurements behind the default. Redis pub/sub channels ignore
    # the database number, so installations (or test runs) sharing one Redis set their own
    # KEFU_CHANNEL_PREFIX.
    _channel_prefix = os.environ.get("KEFU_CHANNEL_PREFIX", "asgi")
    if os.environ.get("KEFU_CHANNEL_LAYER", "pubsub") == "pubsub":
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
                "CONFIG": {"hosts": [REDIS_URL], "prefix": _channel_prefix},
            }
        }
    else:
        CHANNEL_LAYERS = {
            "default": {
                "BACKEND": "channels_redis.core.RedisChannelLayer",
                # A burst fills a slow socket's channel; the default 100 drops silently.
                "CONFIG": {"hosts": [REDIS_URL], "capacity": 1000, "prefix": _channel_prefix},
            }
        }
    CELERY_BROKER_URL = REDIS_URL
    CELERY_TASK_ALWAYS_EAGER = False
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
    CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels.layers.InMemoryChannelLayer", "CONFIG": {"capacity": 1000}}
    }
    CELERY_BROKER_URL = "memory://"
    # Embedded mode: tasks run in-process, right after the transaction commits.
    CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-timers": {
        "task": "flows.tasks.dispatch_due_timers",
        "schedule": float(os.environ.get("KEFU_TIMER_INTERVAL", "1.0")),
        "options": {"expires": 5},
    },
    "sweep-dead-connections": {
        "task": "notifications.tasks.sweep_dead_connections",
        "schedule": float(os.environ.get("KEFU_PRESENCE_GRACE", "10")),
        "options": {"expires": 20},
    },
    # survey invitations and other outbox emails left undelivered (docs/surveys.md)
    "sweep-outbox": {
        "task": "outbox.tasks.sweep_outbox",
        "schedule": float(os.environ.get("KEFU_OUTBOX_SWEEP_SECONDS", "30")),
        "options": {"expires": 60},
    },
    "queue-survey-reminders": {
        "task": "surveys.tasks.queue_survey_reminders",
        "schedule": 300.0,
        "options": {"expires": 600},
    },
}

# --- email ---------------------------------------------------------------------
EMAIL_URL = os.environ.get("KEFU_EMAIL_URL", "")
DEFAULT_FROM_EMAIL = os.environ.get("KEFU_FROM_EMAIL", "Kefu <support@kefu.localhost>")
if EMAIL_URL:
    _mail = urlparse(EMAIL_URL)
    if _mail.scheme not in {"smtp", "smtps", "smtp+tls"}:
        raise ImproperlyConfigured("KEFU_EMAIL_URL must be smtp://, smtp+tls:// or smtps://")
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = _mail.hostname or "127.0.0.1"
    EMAIL_PORT = _mail.port or 25
    EMAIL_HOST_USER = unquote(_mail.username or "")
    EMAIL_HOST_PASSWORD = unquote(_mail.password or "")
    EMAIL_USE_SSL = _mail.scheme == "smtps"
    EMAIL_USE_TLS = _mail.scheme == "smtp+tls"
    EMAIL_TIMEOUT = int(parse_qs(_mail.query).get("timeout", ["10"])[0])
else:
    # Without a mail server each email is written as a file (one .log per message), so the
    # demo's survey emails land in a folder instead of the terminal of `make run`.
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ.get("KEFU_MAIL_DIR", str(BASE_DIR / "var" / "mail"))

# --- auth, i18n, static ----------------------------------------------------------
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
LOGIN_URL = "/login/"
LOGIN_REDIRECT_URL = "/"
LOGOUT_REDIRECT_URL = "/login/"
LANGUAGE_CODE = "en"
LANGUAGES = [("en", _("English")), ("zh-hans", _("Simplified Chinese"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True
STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
# Outside production WhiteNoise serves straight from the apps' static folders, so
# `make run` needs no collectstatic; production runs collectstatic at deploy time.
WHITENOISE_USE_FINDERS = not PRODUCTION
# WhiteNoise's file responses are synchronous iterators; under ASGI Django warns on every
# static file that it consumes them in a thread. That is the intended cost, not a fault.
warnings.filterwarnings(
    "ignore", message="StreamingHttpResponse must consume synchronous iterators"
)
WHITENOISE_AUTOREFRESH = DEBUG

if PRODUCTION:
    SESSION_COOKIE_SECURE = env_bool("KEFU_SECURE_COOKIES", True)
    CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE

# --- REST API --------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "project.api_errors.kefu_exception_handler",
    "DEFAULT_THROTTLE_RATES": {
        "login": os.environ.get("KEFU_LOGIN_THROTTLE", "10/min"),
    },
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Kefu API",
    "DESCRIPTION": "Service desk: tickets as workflow processes with SLA timers and escalation.",
    "VERSION": "0.1.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI's assets ship in a Python package: nothing is fetched from a CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Kefu ------------------------------------------------------------------------
# Days a ticket waits on the customer before it closes itself, and days a
# resolved ticket stays open to a reopen before it closes; days a closed
# ticket can still be reopened before its process is archived.
KEFU_PENDING_AUTO_CLOSE_DAYS = float(os.environ.get("KEFU_PENDING_AUTO_CLOSE_DAYS", "7"))
KEFU_RESOLVED_AUTO_CLOSE_DAYS = float(os.environ.get("KEFU_RESOLVED_AUTO_CLOSE_DAYS", "3"))
KEFU_CLOSED_REOPEN_DAYS = float(os.environ.get("KEFU_CLOSED_REOPEN_DAYS", "30"))
KEFU_IDEMPOTENCY_TTL_HOURS = 24
# The embedded server fires due timers from a thread; production uses beat.
KEFU_TIMER_BATCH = int(os.environ.get("KEFU_TIMER_BATCH", "50"))
KEFU_TIMER_WORKERS = int(os.environ.get("KEFU_TIMER_WORKERS", "4"))

# WebSocket clients ping every KEFU_WS_HEARTBEAT seconds; three missed pings = dead socket.
KEFU_WS_HEARTBEAT = int(os.environ.get("KEFU_WS_HEARTBEAT", "25"))
# A closed socket keeps its agent present this long (the next page's socket opens meanwhile);
# the sweep of gone sockets runs at the same interval.
KEFU_PRESENCE_GRACE = float(os.environ.get("KEFU_PRESENCE_GRACE", "10"))

# Satisfaction surveys (docs/surveys.md). Days may be fractions; 0 turns a rule off.
KEFU_SURVEY_PUBLIC_URL = os.environ.get("KEFU_SURVEY_PUBLIC_URL", SITE_URL).rstrip("/")
KEFU_SURVEY_SUPPRESSION_DAYS = float(os.environ.get("KEFU_SURVEY_SUPPRESSION_DAYS", "30"))
KEFU_SURVEY_FATIGUE_DAYS = float(os.environ.get("KEFU_SURVEY_FATIGUE_DAYS", "30"))
KEFU_SURVEY_REMINDER_DAYS = float(os.environ.get("KEFU_SURVEY_REMINDER_DAYS", "3"))
KEFU_SURVEY_EXPIRY_DAYS = float(os.environ.get("KEFU_SURVEY_EXPIRY_DAYS", "14"))
KEFU_SURVEY_THROTTLE = os.environ.get("KEFU_SURVEY_THROTTLE", "30/min")
# The outbox: rows claimed per batch, the lease a drain holds them for, retries.
KEFU_OUTBOX_BATCH = int(os.environ.get("KEFU_OUTBOX_BATCH", "200"))
KEFU_OUTBOX_LEASE_SECONDS = float(os.environ.get("KEFU_OUTBOX_LEASE_SECONDS", "60"))
KEFU_OUTBOX_SWEEP_SECONDS = float(os.environ.get("KEFU_OUTBOX_SWEEP_SECONDS", "30"))
KEFU_OUTBOX_MAX_ATTEMPTS = int(os.environ.get("KEFU_OUTBOX_MAX_ATTEMPTS", "12"))
KEFU_OUTBOX_DRAIN_SECONDS = 20.0
KEFU_OUTBOX_WORKERS = 2

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "WARNING")},
    # The embedded mode's in-memory broker has no host name, and kombu says so each time.
    "loggers": {"kombu.connection": {"level": "ERROR"}},
}
