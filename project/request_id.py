"""The request id of every log line (docs/operations.md, "Logs").

``RequestIdMiddleware`` (first in ``MIDDLEWARE``) takes the client's ``X-Request-ID`` when it
is a sane value (at most 64 of ``[A-Za-z0-9._-]``), else makes one (a uuid4 in hex), binds it
with ``structlog.contextvars`` for the request — every log line of the request carries it as
``request_id``, Django's own "Not Found" line included — and answers it in ``X-Request-ID``.

Celery: ``before_task_publish`` copies the bound id into the task's ``request_id`` header and
the worker binds it around the task (``task_prerun`` / ``task_postrun``), so the lines of a
task carry the id of the request that queued it (project/celery.py connects the handlers).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable, Mapping
from contextvars import Token
from typing import Any

import structlog
from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.core.signals import request_finished
from django.http import HttpRequest, HttpResponseBase

HEADER = "X-Request-ID"
TASK_HEADER = "request_id"
KEY = "request_id"
_SANE = re.compile(r"[A-Za-z0-9._-]{1,64}")


def sane(value: object) -> str | None:
    """``value`` if it may be a request id, else None."""
    if isinstance(value, str) and _SANE.fullmatch(value):
        return value
    return None


def new_request_id() -> str:
    return uuid.uuid4().hex


def current() -> str | None:
    """The request id bound in this context, if any."""
    value = structlog.contextvars.get_contextvars().get(KEY)
    return value if isinstance(value, str) else None


def _bind(request: HttpRequest) -> str:
    request_id = sane(request.headers.get(HEADER)) or new_request_id()
    # Not unbound when the middleware returns: Django logs an error answer ("Not Found: …")
    # after the middleware chain; request_finished (below) unbinds it.
    structlog.contextvars.bind_contextvars(**{KEY: request_id})
    request.request_id = request_id  # type: ignore[attr-defined]
    return request_id


class RequestIdMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._acall(request)
        request_id = _bind(request)
        response: HttpResponseBase = self.get_response(request)
        response[HEADER] = request_id
        return response

    async def _acall(self, request: HttpRequest) -> HttpResponseBase:
        request_id = _bind(request)
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        response[HEADER] = request_id
        return response


def _unbind(**_: Any) -> None:
    structlog.contextvars.unbind_contextvars(KEY)


request_finished.connect(_unbind, dispatch_uid="kefu-request-id-unbind")


# --- Celery -----------------------------------------------------------------------------
_task_tokens: dict[str, Mapping[str, Token[Any]]] = {}


def add_to_task_headers(headers: dict[str, Any] | None = None, **_: Any) -> None:
    """``before_task_publish``: the bound request id travels in the task's headers."""
    request_id = current()
    if request_id is not None and headers is not None:
        headers.setdefault(TASK_HEADER, request_id)


def bind_for_task(task_id: str | None = None, task: Any = None, **_: Any) -> None:
    """``task_prerun``: the request id of the request that queued the task, bound for it."""
    request = getattr(task, "request", None)
    # A worker puts a message's headers on the task's request; Task.apply keeps them apart.
    headers = getattr(request, "headers", None)
    request_id = sane(getattr(request, TASK_HEADER, None)) or sane(
        headers.get(TASK_HEADER) if isinstance(headers, Mapping) else None
    )
    if request_id is None or task_id is None:
        return  # an eager task runs in its caller's context: that id is already bound
    _task_tokens[task_id] = structlog.contextvars.bind_contextvars(**{KEY: request_id})


def unbind_after_task(task_id: str | None = None, **_: Any) -> None:
    """``task_postrun``: the context as it was before the task."""
    tokens = _task_tokens.pop(task_id, None) if task_id is not None else None
    if tokens is not None:
        structlog.contextvars.reset_contextvars(**tokens)
