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

No Django model is imported here: logging is configured before the apps are loaded.
"""

from __future__ import annotations

import copy
import logging
import logging.config
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import unquote_plus

_QUERY_PARAMETER = re.compile(r"(?<=[?&;])([^=&;?\s\"'#]+)=([^&;\s\"'#]*)")
SECRET_PARAMETERS = frozenset({"token", "ticket"})
REDACTED = "[redacted]"
LOGGERS = ("uvicorn.access", "uvicorn.error", "django.request", "django.server")


def _parameter(match: re.Match[str]) -> str:
    name = match.group(1)
    # Compared as the server reads it: ?%74oken= is ?token= to Django and Channels.
    if unquote_plus(name).lower() in SECRET_PARAMETERS:
        return f"{name}={REDACTED}"
    return match.group(0)


# A survey link is its own key (/s/<token>/): a log line keeps the path, not the key.
_SURVEY_LINK = re.compile(r"(/s/)[A-Za-z0-9_-]{8,}(?=/|\s|$|\?)")


def redact(text: str) -> str:
    if "/s/" in text:
        text = _SURVEY_LINK.sub(rf"\1{REDACTED}", text)
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


def configure(logging_settings: dict[str, Any]) -> None:
    """``settings.LOGGING_CONFIG``: Django's dictConfig, then the filter on uvicorn's loggers."""
    logging.config.dictConfig(logging_settings)
    install()


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the filter on each of its handlers."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_secrets")
    return config
