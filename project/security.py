"""Response headers and error pages that keep a browser safe by default (docs/security.md).

* ``ContentSecurityPolicyMiddleware``: scripts only from Kefu's own static files (the pages'
  data travels in ``json_script`` blocks, which are not run), no plugins, no framing, sockets
  and fetches to this site only. The API's browsable docs (Swagger UI) need an inline script
  and get it on that path alone.
* ``DebugOnlyOnLoopbackMiddleware`` and ``LoopbackExceptionReporter``: the development mode's
  debug pages (settings, URL patterns, tracebacks) are shown to this machine only; anyone
  else gets a plain error page.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.safestring import SafeString, mark_safe
from django.views.debug import ExceptionReporter, SafeExceptionReporterFilter

from project.throttling import client_address

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        # viewflow's process chart and the admin carry style attributes.
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# Swagger UI starts from an inline script of drf-spectacular's template.
CSP_API_DOCS = CSP.replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
API_DOCS_PATH = "/api/docs/"


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            policy = CSP_API_DOCS if request.path.startswith(API_DOCS_PATH) else CSP
            response["Content-Security-Policy"] = policy
        return response


def from_loopback(request: HttpRequest | None) -> bool:
    """The client is this machine: its address (as the deployment defines it, behind trusted
    proxies too) is a loopback one. Behind a proxy a request that does not say whom it comes
    from (no X-Forwarded-For) is not taken for this machine's."""
    if request is None:
        return False
    if settings.KEFU_TRUSTED_PROXIES > 0 and "HTTP_X_FORWARDED_FOR" not in request.META:
        return False
    try:
        return ipaddress.ip_address(client_address(request)).is_loopback
    except ValueError:
        return False


class KefuSafeReporterFilter(SafeExceptionReporterFilter):
    """Also hides settings holding a URL, which may carry a password (database, Redis, SMTP)."""

    hidden_settings = re.compile(
        SafeExceptionReporterFilter.hidden_settings.pattern + "|URL|LOCATION|HOSTS",
        flags=SafeExceptionReporterFilter.hidden_settings.flags,
    )


PLAIN_500 = "Server error / 服务器错误"


class LoopbackExceptionReporter(ExceptionReporter):
    """The technical 500 page for this machine's browser; a plain one for anybody else."""

    def get_traceback_html(self) -> SafeString:
        if from_loopback(self.request):
            return super().get_traceback_html()
        return mark_safe(f"<!doctype html><title>500</title><h1>{PLAIN_500}</h1>")  # noqa: S308

    def get_traceback_text(self) -> SafeString:
        if from_loopback(self.request):
            return super().get_traceback_text()
        return mark_safe(PLAIN_500)  # noqa: S308 - a constant


class DebugOnlyOnLoopbackMiddleware:
    """Django's technical 404 page (every URL pattern) only for this machine, under DEBUG."""

    MARK = b"Using the URLconf defined in"

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        response = self.get_response(request)
        if (
            settings.DEBUG
            and response.status_code == 404
            and not getattr(response, "streaming", False)
            and self.MARK in response.content
            and not from_loopback(request)
        ):
            return HttpResponse(
                "<!doctype html><title>404</title><h1>Not found / 未找到</h1>",
                status=404,
            )
        return response
