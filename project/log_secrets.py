"""Keeps API tokens and socket tickets out of the logs (docs/security.md).

Clients may put them in a query string (``/ws/queue/?token=…``, ``?ticket=…``), and uvicorn
logs the path with its query string: its access log for HTTP requests, and a line on
``uvicorn.error`` for every WebSocket handshake. ``RedactSecrets`` rewrites ``token=`` and
``ticket=`` values — and the key of a survey link, ``/s/<token>/`` — to ``[redacted]`` in a
record's message and arguments, keeping their shape (uvicorn's access formatter unpacks the
arguments).

Installed three ways, so that whichever starts the server, nothing leaks:
* on the console handler and ``django.request`` in ``settings.LOGGING``;
* on uvicorn's loggers by ``configure`` (Django's ``LOGGING_CONFIG``), which runs when the
  ASGI application is imported, after uvicorn configured its own logging — this covers
  ``uvicorn project.asgi:application`` and gunicorn's uvicorn worker;
* on the handlers of the uvicorn configuration of ``manage.py serve``
  (``uvicorn_log_config``).

With ``KEFU_LOG_FORMAT=json`` (production's default) every line is one JSON object, made by
structlog's ``ProcessorFormatter`` from the standard library's records (``json_formatter``):
the console handler, uvicorn's and gunicorn's handlers (``configure``, ``uvicorn_log_config``)
and Celery's (project/celery.py) all use it. The filter still runs first, on the handlers, and
the formatter redacts the rendered fields once more. docs/operations.md, "Logs".

No Django model is imported here: logging is configured before the apps are loaded.
"""

from __future__ import annotations

import copy
import logging
import logging.config
import os
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

_QUERY_PARAMETER = re.compile(r"(?<=[?&;])([^=&;?\s\"'#]+)=([^&;\s\"'#]*)")
SECRET_PARAMETERS = frozenset({"token", "ticket"})
REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error", "django.request", "django.server")
# Loggers whose servers install handlers of their own: given the JSON formatter by configure.
SERVER_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access", "gunicorn.error", "gunicorn.access")
LOG_FORMATS = ("json", "text")


def _parameter(match: re.Match[str]) -> str:
    name = match.group(1)
    # Compared as the server reads it: ?%74oken= is ?token= to Django and Channels.
    if unquote_plus(name).lower() in SECRET_PARAMETERS:
        return f"{name}={REDACTED}"
    return match.group(0)


# A survey link is its own key (/s/<token>/): a log line keeps the path, not the key.
_SURVEY_LINK = re.compile(r"(/s/)[A-Za-z0-9_-]{8,}(?=/|\s|$|\?)")
# So is a request page's link (/help/requests/<token>/, a signed value with colons).
_REQUEST_LINK = re.compile(r"(/help/requests/)[A-Za-z0-9_:-]{8,}(?=/|\s|$|\?)")


def redact(text: str) -> str:
    if "/s/" in text:
        text = _SURVEY_LINK.sub(rf"\1{REDACTED}", text)
    if "/help/requests/" in text:
        text = _REQUEST_LINK.sub(rf"\1{REDACTED}", text)
    if "=" not in text:
        return text
    return _QUERY_PARAMETER.sub(_parameter, text)


def _redacted(value: Any) -> Any:
    return redact(value) if isinstance(value, str) else value


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_redacted(a) for a in record.args)
        elif isinstance(record.args, Mapping):
            record.args = {k: _redacted(v) for k, v in record.args.items()}
        return True


def install() -> None:
    """Puts the filter on the loggers that print request paths (once each)."""
    for name in LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, RedactSecrets) for f in logger.filters):
            logger.addFilter(RedactSecrets())


def log_format() -> str:
    """``KEFU_LOG_FORMAT``: ``json`` or ``text``; by default ``json`` in production."""
    default = "json" if os.environ.get("KEFU_ENV", "development") == "production" else "text"
    value = os.environ.get("KEFU_LOG_FORMAT", default).strip().lower() or default
    if value not in LOG_FORMATS:
        from django.core.exceptions import ImproperlyConfigured

        raise ImproperlyConfigured("KEFU_LOG_FORMAT must be 'json' or 'text'")
    return value


def _redact_fields(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """The filter's rules on every rendered string field (the message, the traceback, …)."""
    return {
        k: REDACTED if k.lower() in SECRET_PARAMETERS else _redacted(v)
        for k, v in event_dict.items()
    }


def _shared_processors() -> list[Processor]:
    """What every line gets, from structlog or from a standard library logger."""
    return [
        structlog.contextvars.merge_contextvars,  # request_id (project/request_id.py)
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="timestamp"),
    ]


def json_formatter() -> logging.Formatter:
    """One JSON object a line: timestamp (ISO 8601, UTC), level, logger, message,
    request_id when one is bound, exception when there is one."""
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_shared_processors(),
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            _redact_fields,
            structlog.processors.EventRenamer("message"),
            structlog.processors.JSONRenderer(),
        ],
    )


def use_json_formatter(logger: logging.Logger) -> None:
    """The JSON formatter (and the filter) on each handler of ``logger``."""
    for handler in logger.handlers:
        handler.setFormatter(json_formatter())
        if not any(isinstance(f, RedactSecrets) for f in handler.filters):
            handler.addFilter(RedactSecrets())


def _configure_structlog(fmt: str) -> None:
    """structlog's own loggers (``structlog.get_logger``) hand their events to the standard
    library's, so they go through the same handlers, filter and formatter."""
    processors: list[Processor] = [structlog.stdlib.filter_by_level]
    if fmt == "json":
        processors += [
            *_shared_processors(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ]
    else:
        processors += [
            structlog.contextvars.merge_contextvars,
            structlog.stdlib.render_to_log_kwargs,
        ]
    structlog.configure(
        processors=processors,
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def configure(logging_settings: dict[str, Any]) -> None:
    """``settings.LOGGING_CONFIG``: Django's dictConfig, then the filter on uvicorn's loggers
    and, in the JSON format, the JSON formatter on the handlers uvicorn (or gunicorn)
    installed before the application was imported."""
    logging.config.dictConfig(logging_settings)
    install()
    fmt = log_format()
    _configure_structlog(fmt)
    if fmt == "json":
        for name in SERVER_LOGGERS:
            use_json_formatter(logging.getLogger(name))
        # Django's default configuration prints django.* to a console of its own under DEBUG,
        # in text: its lines reach the root's JSON handler anyway (mail_admins stays).
        django_logger = logging.getLogger("django")
        for handler in list(django_logger.handlers):
            if type(handler) is logging.StreamHandler:
                django_logger.removeHandler(handler)


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the filter on each of its handlers (and,
    in the JSON format, the JSON formatter)."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    if log_format() == "json":
        config["formatters"] = {
            name: {"()": f"{__name__}.json_formatter"} for name in config["formatters"]
        }
    return config
