"""One error shape for the whole API: {"detail": "...", "errors": {field: [msgs]}}."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from core.errors import Conflict, Forbidden, Gone, InvalidInput, KefuError, NotFound

from .parsers import PayloadTooLarge

STATUS_OF: dict[type[KefuError], int] = {
    InvalidInput: status.HTTP_400_BAD_REQUEST,
    NotFound: status.HTTP_404_NOT_FOUND,
    Forbidden: status.HTTP_403_FORBIDDEN,
    Conflict: status.HTTP_409_CONFLICT,
    Gone: status.HTTP_410_GONE,
}


def _flatten(data: Any) -> dict[str, list[str]]:
    if isinstance(data, dict):
        out: dict[str, list[str]] = {}
        for key, value in data.items():
            if isinstance(value, dict):
                for sub, msgs in _flatten(value).items():
                    out[f"{key}.{sub}"] = msgs
            elif isinstance(value, list):
                out[str(key)] = [str(v) for v in value]
            else:
                out[str(key)] = [str(value)]
        return out
    if isinstance(data, list):
        return {"non_field_errors": [str(v) for v in data]}
    return {}


def kefu_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, KefuError):
        return Response({"detail": exc.message, "errors": exc.errors}, status=STATUS_OF[type(exc)])
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        # Django's own refusals of a body (too many fields, a malformed multipart) are the
        # client's fault: 400, not the HTML page Django would answer outside DRF.
        exc = exceptions.ParseError()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = {"detail": _("Invalid input."), "errors": _flatten(exc.detail)}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"detail": str(response.data["detail"]), "errors": {}}
    else:
        response.data = {"detail": _("Error."), "errors": _flatten(response.data)}
    return response
