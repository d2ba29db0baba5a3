"""Bad requests stop here, and every answer under /api/ keeps the API's error shape.

``RefuseMalformedRequests`` refuses, before any view runs, what Kefu can never serve: a body
over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` (413) and a null character in the path or the query
string (400; PostgreSQL cannot store one). ``ApiErrorsAsJson`` turns the answers Django gives
under /api/ before or around DRF (an unknown URL, a CSRF failure, a server error) into
``{"detail", "errors"}`` JSON (docs/security.md, "Bad input")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.translation import gettext as _
from django.views.defaults import bad_request
from rest_framework import exceptions

from .parsers import PayloadTooLarge

API_PREFIX = "/api/"

Handler = Callable[[HttpRequest], HttpResponseBase]


def is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX)


def error_response(status: int, detail: Any, errors: dict[str, list[str]] | None = None) -> Any:
    return JsonResponse({"detail": str(detail), "errors": errors or {}}, status=status)


# Pages that take files: the customer pages' forms (docs/email.md, "Customer pages") may be
# as large as an inbound message; each file is held to KEFU_ATTACHMENT_MAX_BYTES by the view.
UPLOAD_PREFIXES = ("/help/",)


def _body_too_large(request: HttpRequest) -> bool:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if request.path_info.startswith(UPLOAD_PREFIXES):
        limit = settings.KEFU_INBOUND_MAX_BYTES
    if limit is None:
        return False
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > limit


def _null_character_field(request: HttpRequest) -> str | None:
    """The first place a null character hides in the path or query string, or None."""
    if "\x00" in request.path_info:
        return "path"
    for key, values in request.GET.lists():
        if "\x00" in key:
            return "query"
        if any("\x00" in value for value in values):
            return key
    return None


class RefuseMalformedRequests:
    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if _body_too_large(request):
            detail = PayloadTooLarge.default_detail
            if is_api(request):
                return error_response(413, detail)
            return HttpResponse(str(detail), status=413, content_type="text/plain; charset=utf-8")
        field = _null_character_field(request)
        if field is not None:
            message = _("Null characters are not allowed.")
            if is_api(request):
                return error_response(400, _("Invalid input."), {field: [message]})
            return bad_request(request, SuspiciousOperation(message))
        return self.get_response(request)


def _detail_for(status: int, request: HttpRequest, response: HttpResponseBase) -> str:
    match status:
        case 400:
            return str(exceptions.ParseError.default_detail)
        case 401:
            return str(exceptions.NotAuthenticated.default_detail)
        case 403:
            return str(exceptions.PermissionDenied.default_detail)
        case 404:
            return str(exceptions.NotFound.default_detail)
        case 405:
            return str(exceptions.MethodNotAllowed.default_detail).format(method=request.method)
        case 413:
            return str(PayloadTooLarge.default_detail)
        case 429:
            return str(exceptions.Throttled.default_detail)
        case _ if status >= 500:
            return str(exceptions.APIException.default_detail)
    return str(response.reason_phrase)


class ApiErrorsAsJson:
    """Rewrites a non-JSON error answer under /api/ as the error shape, keeping its status
    and the headers a client acts on. With DEBUG a server error keeps Django's debug page."""

    KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate", "Vary")

    def __init__(self, get_response: Handler) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        status = response.status_code
        if status < 400 or not is_api(request) or response.streaming:
            return response
        if response.get("Content-Type", "").startswith("application/json"):
            return response
        if status >= 500 and settings.DEBUG:
            return response
        rewritten = error_response(status, _detail_for(status, request, response))
        for header in self.KEPT_HEADERS:
            if header in response:
                rewritten[header] = response[header]
        for cookie in response.cookies.values():
            rewritten.cookies[cookie.key] = cookie
        return rewritten
