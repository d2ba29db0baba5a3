"""Kefu settings, read from the environment (see README and .env.example).

Two run modes share this file: the embedded mode (no KEFU_DATABASE_URL /
KEFU_REDIS_URL: SQLite, in-memory channel layer, tasks in-process) and the
production mode (PostgreSQL, Redis, Celery worker and beat).
"""

from __future__ import annotations

import ipaddress
import os
import warnings
from email.utils import parseaddr
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlparse

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from project.log_secrets import log_format

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
    # Django's admin, on a site that asks for the second factor (web/two_factor_admin.py).
    "web.admin_site.KefuAdminConfig",
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
    "core",
    "sla",
    "org",
    "processes",
    "audit",
    "customers",
    "tickets",
    "flows",
    "complaints",
    "reports",
    "surveys",
    "outbox",
    "mail",
    "notifications",
    "web",
    # /healthz, /readyz, /metrics and beat's leader lock (docs/operations.md).
    "ops",
    # Failed-login counting and the login audit tables (project/logins.py).
    "axes",
    # The second factor: authenticator apps (TOTP) and recovery codes (web/two_factor.py).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
]

MIDDLEWARE = [
    # First: every log line of a request carries its X-Request-ID (docs/operations.md, "Logs").
    "project.request_id.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the ASGI server itself (uvicorn serves no files of its own).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # docs/security.md: the debug pages stay on this machine; a CSP on every answer.
    "project.security.DebugOnlyOnLoopbackMiddleware",
    "project.security.ContentSecurityPolicyMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    # docs/security.md, "Bad input": no body over the limit nor null character gets past;
    # every error under /api/ answers the API's JSON error shape.
    "project.middleware.ApiErrorsAsJson",
    "project.middleware.RefuseMalformedRequests",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # docs/security.md, "Second factor": whether the session passed it, and a session that
    # needed it and did not reaches only the second step.
    "django_otp.middleware.OTPMiddleware",
    "web.two_factor.SecondFactorMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: a login refused by a lockout becomes the login page with 429 (project/logins.py).
    "project.logins.LoginLockoutMiddleware",
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


def parse_database_url(url: str, conn_max_age: int = 60) -> dict[str, Any]:
    """dj-database-url's parse, plus libpq's multi-host form, which it refuses when the hosts
    carry ports: ``postgres://u:p@db1:5432,db2:5432/kefu?target_session_attrs=read-write``
    gives HOST ``db1,db2`` and PORT ``5432,5432``; libpq tries them in order and keeps the
    first that is writable, so Kefu follows a promoted replica (docs/deploy.md)."""
    scheme, sep, rest = url.partition("://")
    end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
    userinfo, at, hostlist = rest[:end].rpartition("@")
    if "," not in hostlist:
        return dict(dj_database_url.parse(url, conn_max_age=conn_max_age))
    hosts, ports = [], []
    for entry in hostlist.split(","):
        if entry.startswith("["):  # [::1]:5432
            host, _, tail = entry[1:].partition("]")
            port = tail.removeprefix(":")
        else:
            host, _, port = entry.partition(":")
        hosts.append(host)
        ports.append(port)
    first = f"[{hosts[0]}]" if ":" in hosts[0] else hosts[0]
    config = dict(
        dj_database_url.parse(
            f"{scheme}{sep}{userinfo}{at}{first}{rest[end:]}", conn_max_age=conn_max_age
        )
    )
    config["HOST"] = ",".join(hosts)
    config["PORT"] = ",".join(p or "5432" for p in ports) if any(ports) else ""
    return config


# IMMEDIATE transactions serialise SQLite's writers instead of failing a flow lock upgrade
# (or any read-then-write, a second factor's last code say) with "database is locked"
# (see VIEWFLOW.md §4); a sqlite:// KEFU_DATABASE_URL gets them too.
SQLITE_OPTIONS = {"transaction_mode": "IMMEDIATE", "timeout": 20}
if DATABASE_URL:
    DATABASES = {"default": parse_database_url(DATABASE_URL, conn_max_age=60)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        DATABASES["default"]["OPTIONS"] = {
            **SQLITE_OPTIONS,
            **DATABASES["default"].get("OPTIONS", {}),
        }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": os.environ.get("KEFU_SQLITE_PATH", str(BASE_DIR / "kefu.sqlite3")),
            "OPTIONS": dict(SQLITE_OPTIONS),
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

# --- redis sentinel (docs/deploy.md, "Redis with Sentinel") ---------------------------
# KEFU_REDIS_SENTINELS=host:port,host:port: the broker, the channel layer and the cache ask
# these sentinels where the master of KEFU_REDIS_SENTINEL_MASTER is, and follow a failover.
# KEFU_REDIS_URL (and KEFU_CACHE_URL) then give only the database number and the password;
# their host is not used (write e.g. redis://:secret@mymaster/0).
KEFU_REDIS_SENTINELS = [
    (host.strip(), int(port))
    for host, _, port in (
        entry.strip().rpartition(":")
        for entry in os.environ.get("KEFU_REDIS_SENTINELS", "").split(",")
        if entry.strip()
    )
]
KEFU_REDIS_SENTINEL_MASTER = os.environ.get("KEFU_REDIS_SENTINEL_MASTER", "mymaster")
if REDIS_URL and KEFU_REDIS_SENTINELS:
    from redis.sentinel import Sentinel, SentinelConnectionPool

    _broker = urlparse(REDIS_URL)
    _db = int(_broker.path.strip("/") or 0)
    # The sentinels' own password (`requirepass` in sentinel.conf), when they have one.
    _sentinel_kwargs: dict[str, Any] = {"socket_timeout": 1.0, "socket_connect_timeout": 1.0}
    if os.environ.get("KEFU_REDIS_SENTINEL_PASSWORD"):
        _sentinel_kwargs["password"] = os.environ["KEFU_REDIS_SENTINEL_PASSWORD"]
    _auth = f"{_broker.username or ''}:{_broker.password}@" if _broker.password else ""
    KEFU_REDIS_SENTINEL_KWARGS = _sentinel_kwargs  # core/redis.py's clients ask them too
    CELERY_BROKER_URL = ";".join(
        f"sentinel://{_auth}{host}:{port}/{_db}" for host, port in KEFU_REDIS_SENTINELS
    )
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "master_name": KEFU_REDIS_SENTINEL_MASTER,
        "sentinel_kwargs": _sentinel_kwargs,
    }
    _layer_host = {
        "master_name": KEFU_REDIS_SENTINEL_MASTER,
        "sentinels": KEFU_REDIS_SENTINELS,
        "sentinel_kwargs": _sentinel_kwargs,
        "db": _db,
        **({"password": unquote(_broker.password)} if _broker.password else {}),
        **({"username": unquote(_broker.username)} if _broker.username else {}),
    }
    _layer: dict[str, Any] = CHANNEL_LAYERS["default"]
    _layer["CONFIG"] = {**_layer["CONFIG"], "hosts": [_layer_host]}
    # Django's RedisCache builds its pool with `pool_class.from_url(LOCATION, **OPTIONS)`: a
    # sentinel pool takes the database and password from LOCATION and the master from these.
    _cache: dict[str, Any] = CACHES["default"]
    _cache["OPTIONS"] = {
        "pool_class": SentinelConnectionPool,
        "service_name": KEFU_REDIS_SENTINEL_MASTER,
        "sentinel_manager": Sentinel(KEFU_REDIS_SENTINELS, sentinel_kwargs=_sentinel_kwargs),
    }
# --- end of redis sentinel ------------------------------------------------------------
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE = {
    "dispatch-due-timers": {
        "task": "processes.tasks.dispatch_due_timers",
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
    # the complaint report's read model (docs/reports.md)
    "refresh-complaint-report": {
        "task": "reports.tasks.refresh_complaint_report",
        "schedule": float(os.environ.get("KEFU_REPORT_REFRESH_SECONDS", "60")),
        "options": {"expires": 120},
    },
    "queue-survey-reminders": {
        "task": "surveys.tasks.queue_survey_reminders",
        "schedule": 300.0,
        "options": {"expires": 600},
    },
}

# --- operations (docs/operations.md): probes, metrics, beat's leader lock -------------
# Every `celery beat` (and `worker -B`) competes for a lock on the broker's Redis; only its
# holder sends. A crashed holder's lock expires after this many seconds: the failover time.
CELERY_BEAT_SCHEDULER = "ops.beat:LeaderScheduler"
KEFU_BEAT_LOCK_SECONDS = float(os.environ.get("KEFU_BEAT_LOCK_SECONDS", "5"))
# /readyz: each network check's timeout, and the limits past which Kefu is not ready.
KEFU_READYZ_TIMEOUT = float(os.environ.get("KEFU_READYZ_TIMEOUT", "1.0"))
KEFU_READYZ_BEAT_STALE_SECONDS = float(os.environ.get("KEFU_READYZ_BEAT_STALE_SECONDS", "15"))
KEFU_READYZ_OUTBOX_MAX_BACKLOG = int(os.environ.get("KEFU_READYZ_OUTBOX_MAX_BACKLOG", "1000"))
KEFU_READYZ_OUTBOX_MAX_AGE = float(os.environ.get("KEFU_READYZ_OUTBOX_MAX_AGE", "600"))
KEFU_READYZ_TIMER_MAX_LATENESS = float(os.environ.get("KEFU_READYZ_TIMER_MAX_LATENESS", "30"))
# /metrics: served to these networks (the client address of project.throttling) or to a
# request carrying `Authorization: Bearer <KEFU_METRICS_TOKEN>`.
KEFU_METRICS_ALLOW = [
    ipaddress.ip_network(net.strip(), strict=False)
    for net in os.environ.get("KEFU_METRICS_ALLOW", "127.0.0.0/8,::1/128").split(",")
    if net.strip()
]
KEFU_METRICS_TOKEN = os.environ.get("KEFU_METRICS_TOKEN", "")
# --- end of operations --------------------------------------------------------------

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

# --- the customer conversation (docs/email.md) -----------------------------------
# Files (attachments, raw inbound mail) go through Django's storage: the filesystem here by
# default; any storage backend in production (STORAGES["default"]).
MEDIA_ROOT = Path(os.environ.get("KEFU_MEDIA_ROOT", str(BASE_DIR / "var" / "media")))
MEDIA_URL = "/media/"  # never served directly: downloads go through a permission check
# The address customers write to and reply to. With plus-addressing on, replies go to
# support+T-2026-000123@… so even a client that drops the headers threads.
KEFU_SUPPORT_ADDRESS = os.environ.get(
    "KEFU_SUPPORT_ADDRESS", parseaddr(DEFAULT_FROM_EMAIL)[1] or "support@kefu.localhost"
)
KEFU_PLUS_ADDRESSING = env_bool("KEFU_PLUS_ADDRESSING", True)
# Other addresses of ours (comma-separated): mail from them is never answered (loops).
KEFU_OWN_ADDRESSES = [
    a.strip().lower() for a in os.environ.get("KEFU_OWN_ADDRESSES", "").split(",") if a.strip()
]
# At most this many automatic emails (acknowledgements, notices) per address per hour.
KEFU_AUTO_REPLY_LIMIT = int(os.environ.get("KEFU_AUTO_REPLY_LIMIT", "5"))
# Attachments: largest file, largest message, and the content types refused.
KEFU_ATTACHMENT_MAX_BYTES = int(os.environ.get("KEFU_ATTACHMENT_MAX_BYTES", str(10 * 2**20)))
KEFU_INBOUND_MAX_BYTES = int(os.environ.get("KEFU_INBOUND_MAX_BYTES", str(25 * 2**20)))
KEFU_ATTACHMENT_REFUSED_TYPES = [
    t.strip()
    for t in os.environ.get(
        "KEFU_ATTACHMENT_REFUSED_TYPES",
        "application/x-msdownload,application/x-msdos-program,application/x-sh,"
        "application/x-executable,application/java-archive,application/x-bat",
    ).split(",")
    if t.strip()
]
# The customer's request page link (signed, expiring) and how long it lives.
KEFU_REQUEST_LINK_DAYS = float(os.environ.get("KEFU_REQUEST_LINK_DAYS", "30"))
# How often every enabled mailbox is polled (seconds; docs/email.md, "Mailboxes (IMAP)").
KEFU_MAIL_POLL_SECONDS = float(os.environ.get("KEFU_MAIL_POLL_SECONDS", "15"))
CELERY_BEAT_SCHEDULE["poll-mailboxes"] = {
    "task": "mail.tasks.poll_mailboxes",
    "schedule": KEFU_MAIL_POLL_SECONDS,
    "options": {"expires": KEFU_MAIL_POLL_SECONDS},
}
# An IMAP connection's connect and read timeout (seconds), UIDs per batch of a poll, how long
# one poll round may run before it hands over to the next task, pollers sharing one mailbox
# (each takes its own conversations), and a CA file to trust besides the system's (a server
# with a private CA's certificate).
KEFU_IMAP_TIMEOUT = float(os.environ.get("KEFU_IMAP_TIMEOUT", "30"))
KEFU_IMAP_BATCH = int(os.environ.get("KEFU_IMAP_BATCH", "100"))
KEFU_IMAP_ROUND_SECONDS = float(os.environ.get("KEFU_IMAP_ROUND_SECONDS", "60"))
KEFU_IMAP_LANES = int(os.environ.get("KEFU_IMAP_LANES", "2"))
KEFU_IMAP_CA_FILE = os.environ.get("KEFU_IMAP_CA_FILE", "")
# POSTs per client address on the customer pages (/help/: the web form, replies, links).
KEFU_HELP_THROTTLE = os.environ.get("KEFU_HELP_THROTTLE", "30/hour")

# --- auth, i18n, static ----------------------------------------------------------
# Wherever a password is set: the admin's forms, createsuperuser, changepassword
# (docs/security.md, "Logins and passwords"). The demo loader sets its passwords directly.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
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
STATIC_ROOT = Path(os.environ.get("KEFU_STATIC_ROOT", str(BASE_DIR / "staticfiles")))
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

# --- transport security (docs/security.md) -------------------------------------
# Production answers only over HTTPS: plain HTTP is redirected, and browsers are told to
# use HTTPS for a year (KEFU_HSTS_SECONDS=0 turns that off while trying a certificate).
SECURE_SSL_REDIRECT = env_bool("KEFU_HTTPS_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = int(os.environ.get("KEFU_HSTS_SECONDS", "31536000" if PRODUCTION else "0"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("KEFU_HSTS_SUBDOMAINS", False)
SECURE_REDIRECT_EXEMPT = [r"^healthz/?$", r"^readyz/?$", r"^metrics/?$"]
# The debug pages never show connection URLs, and only this machine sees them at all.
DEFAULT_EXCEPTION_REPORTER = "project.security.LoopbackExceptionReporter"
DEFAULT_EXCEPTION_REPORTER_FILTER = "project.security.KefuSafeReporterFilter"

# --- REST API --------------------------------------------------------------------
# How many reverse proxies that append to X-Forwarded-For stand before Kefu (docs/security.md,
# "Logins and passwords"). 0: the peer of the connection is the client and X-Forwarded-For
# is ignored; N: the client is the N-th address from its right. Every throttle and login
# counter counts by it (project/throttling.client_address), DRF's throttles too.
KEFU_TRUSTED_PROXIES = int(os.environ.get("KEFU_TRUSTED_PROXIES", "0") or 0)
# Behind a TLS-terminating proxy the proxy says the request came over HTTPS; only a trusted
# proxy may say it.
if KEFU_TRUSTED_PROXIES > 0:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # DRF's token authentication, refusing tokens past KEFU_TOKEN_TTL (docs/security.md)
        "project.authentication.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_SCHEMA_CLASS": "project.schema.KefuAutoSchema",
    # Bounded reads, a JSON depth limit and no null characters (docs/security.md).
    "DEFAULT_PARSER_CLASSES": [
        "project.parsers.KefuJSONParser",
        "project.parsers.KefuFormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "EXCEPTION_HANDLER": "project.api_errors.kefu_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    "NUM_PROXIES": KEFU_TRUSTED_PROXIES,
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
    # Choice sets of the complaints API named apart from the tickets' of the same field name.
    "ENUM_NAME_OVERRIDES": {
        "ComplaintChannelEnum": "complaints.choices.Channel",
        "ComplaintContactChannelEnum": "complaints.choices.ContactChannel",
        "ComplaintStatusEnum": "complaints.choices.ComplaintStatus",
        "ProposalStatusEnum": "complaints.choices.ProposalStatus",
        "CompensationKindEnum": "complaints.choices.CompensationKind",
        "SeverityEnum": "complaints.choices.Severity",
        "ChannelEnum": "tickets.choices.Channel",
        "TicketOutputStatusEnum": "tickets.choices.TicketStatus",
        "SegmentKindEnum": "customers.choices.SegmentKind",
        "PointKindEnum": "customers.choices.PointKind",
        "CustomerKindEnum": "customers.choices.CustomerKind",
        "ContractKindEnum": "customers.choices.ContractKind",
        "PrivacyKindEnum": "customers.choices.PrivacyKind",
        # customer|contact: the target of merges, dismissed pairs and custom fields
        "RecordTargetEnum": "customers.choices.FieldTarget",
    },
}
DATA_UPLOAD_MAX_MEMORY_SIZE = 2 * 1024 * 1024

# --- Kefu ------------------------------------------------------------------------
# Days a ticket waits on the customer before it closes itself, and days a
# resolved ticket stays open to a reopen before it closes; days a closed
# ticket can still be reopened before its process is archived.
KEFU_PENDING_AUTO_CLOSE_DAYS = float(os.environ.get("KEFU_PENDING_AUTO_CLOSE_DAYS", "7"))
KEFU_RESOLVED_AUTO_CLOSE_DAYS = float(os.environ.get("KEFU_RESOLVED_AUTO_CLOSE_DAYS", "3"))
KEFU_CLOSED_REOPEN_DAYS = float(os.environ.get("KEFU_CLOSED_REOPEN_DAYS", "30"))
# The currency compensation is paid in (ISO 4217; docs/complaints.md, "Compensation").
KEFU_CURRENCY = os.environ.get("KEFU_CURRENCY", "CNY").upper()
# The country a phone number written without its country code is read in (customers.phones).
KEFU_DEFAULT_PHONE_REGION = os.environ.get("KEFU_DEFAULT_PHONE_REGION", "CN").upper()
KEFU_IDEMPOTENCY_TTL_HOURS = 24
# The embedded server fires due timers from a thread; production uses beat.
KEFU_TIMER_BATCH = int(os.environ.get("KEFU_TIMER_BATCH", "50"))
# SLA clocks one sweep of the ladder claims and fires set-wise (docs/sla.md).
KEFU_SLA_BATCH = int(os.environ.get("KEFU_SLA_BATCH", "500"))
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

# --- tokens and live sockets (docs/security.md, "Tokens and live sockets") -------------
# An API token lives this many seconds from its issue (fixed, not sliding); a socket ticket
# (POST /api/auth/socket-ticket/) opens one socket within this many seconds.
KEFU_TOKEN_TTL = int(os.environ.get("KEFU_TOKEN_TTL", str(24 * 3600)))
KEFU_WS_TICKET_TTL = int(os.environ.get("KEFU_WS_TICKET_TTL", "30"))
# Tokens and tickets in query strings (?token=, ?ticket=) are redacted from every log line:
# the filter sits on the console handler and django.request here, and configure() puts it
# on uvicorn's loggers too (project/log_secrets.py).
LOGGING_CONFIG = "project.log_secrets.configure"
# --- end of tokens and live sockets ----------------------------------------------------

# docs/operations.md, "Logs": "json" (production's default) makes every line one JSON object
# (timestamp, level, logger, message, request_id, exception); "text" is the plain message.
KEFU_LOG_FORMAT = log_format()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"redact_secrets": {"()": "project.log_secrets.RedactSecrets"}},
    "formatters": {"json": {"()": "project.log_secrets.json_formatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "filters": ["redact_secrets"],
            **({"formatter": "json"} if KEFU_LOG_FORMAT == "json" else {}),
        },
    },
    "root": {"handlers": ["console"], "level": os.environ.get("KEFU_LOG_LEVEL", "WARNING")},
    "loggers": {
        # The embedded mode's in-memory broker has no host name, and kombu says so each time.
        "kombu.connection": {"level": "ERROR"},
        "django.request": {"filters": ["redact_secrets"]},
    },
}

# --- logins and passwords (docs/security.md, "Logins and passwords") --------------------
# (KEFU_TRUSTED_PROXIES, the client's address, is read above the REST API's settings.)
# Failed logins an account (its user name, any case) and an address may have within the
# window before a lockout; the first lockout's length, doubled for each further one within a
# day up to the cap; and the ceiling of failures in total, over every account and address.
KEFU_LOGIN_ACCOUNT_FAILURES = int(os.environ.get("KEFU_LOGIN_ACCOUNT_FAILURES", "5"))
KEFU_LOGIN_ADDRESS_FAILURES = int(os.environ.get("KEFU_LOGIN_ADDRESS_FAILURES", "20"))
KEFU_LOGIN_FAILURE_WINDOW = int(os.environ.get("KEFU_LOGIN_FAILURE_WINDOW", "900"))
KEFU_LOGIN_LOCKOUT_SECONDS = int(os.environ.get("KEFU_LOGIN_LOCKOUT_SECONDS", "60"))
KEFU_LOGIN_LOCKOUT_MAX_SECONDS = int(os.environ.get("KEFU_LOGIN_LOCKOUT_MAX_SECONDS", "3600"))
KEFU_LOGIN_TOTAL_FAILURES = os.environ.get("KEFU_LOGIN_TOTAL_FAILURES", "100/min")
if "KEFU_LOGIN_THROTTLE" in os.environ:
    warnings.warn(
        "KEFU_LOGIN_THROTTLE is no longer read: failed logins are limited by "
        "KEFU_LOGIN_ACCOUNT_FAILURES, KEFU_LOGIN_ADDRESS_FAILURES and KEFU_LOGIN_TOTAL_FAILURES "
        "(docs/security.md).",
        stacklevel=1,
    )
# django-axes hooks authenticate() on every login path; Kefu's handler counts in the cache
# above and writes axes' audit tables (failed logins, logins and logouts).
AUTHENTICATION_BACKENDS = [
    "project.logins.LoginGuardBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_HANDLER = "project.logins.LoginGuardHandler"
AXES_CLIENT_IP_CALLABLE = "project.throttling.client_address"
# A refused attempt checks no password and is not counted: a lockout ends when it said.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# web/admin.py shows the two audit tables read-only; axes' attempts table is not used.
AXES_ENABLE_ADMIN = False
# axes' middleware is replaced by project.logins.LoginLockoutMiddleware (axes' drops the
# login page it replaces under ASGI).
SILENCED_SYSTEM_CHECKS = ["axes.W002"]
# --- end of logins and passwords --------------------------------------------------------

# --- second factor (docs/security.md, "Second factor") ----------------------------------
# Users of these roles (comma-separated; empty: none) must sign in with an authenticator app
# as well as the password; anyone else who enrolled one does too. KEFU_2FA_ENFORCED=0 turns
# the rule off altogether (the test suite's default; never on a reachable server).
KEFU_2FA_REQUIRED_ROLES = [
    role.strip()
    for role in os.environ.get("KEFU_2FA_REQUIRED_ROLES", "administrator,manager,supervisor").split(
        ","
    )
    if role.strip()
]
KEFU_2FA_ENFORCED = env_bool("KEFU_2FA_ENFORCED", True)
OTP_TOTP_ISSUER = "Kefu"
# Wrong codes are counted as failed logins by project/logins.py (per account, per address,
# with lockouts); django-otp's own per-device delay would refuse a right code after a typo.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# The admin's device pages do not show the secret keys.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# --- end of second factor ---------------------------------------------------------------

# Privacy requests (docs/customers-privacy.md): the statutory deadline in days (PIPL
# practice is 15; GDPR's one month is longer, so 15 meets both).
KEFU_PRIVACY_DEADLINE_DAYS = int(os.environ.get("KEFU_PRIVACY_DEADLINE_DAYS", "15"))
