"""The OpenAPI schema describes every answer an operation gives, errors included: one
reusable ``Error`` component (``{"detail", "errors"}``, project/api_errors.py) under each
status the operation can answer (docs/security.md, "Bad input")."""

from __future__ import annotations

from typing import Any

from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

SAFE_METHODS = set(permissions.SAFE_METHODS)


class ErrorSerializer(serializers.Serializer[Any]):
    detail = serializers.CharField(help_text="What went wrong, in the request's language.")
    errors = serializers.DictField(  # type: ignore[assignment]  # a field named like .errors
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field (``non_field_errors`` for the body as a whole).",
    )


ERROR_DESCRIPTIONS = {
    400: "Invalid input: a parameter or the body (malformed or too deeply nested JSON, "
    "a null character, a value out of range).",
    401: "No credentials, or credentials not valid.",
    403: "Not allowed to you (or a session request without its CSRF token).",
    404: "Not found, or not visible to you.",
    409: "The object's state does not allow it (or it is still in use).",
    413: "The request body is over the size limit.",
    415: "The body's media type is not JSON, form or multipart.",
    429: "Too many requests; retry later.",
}


class KefuAutoSchema(AutoSchema):
    """drf-spectacular's schema, plus the error answers of each operation.

    Every operation may answer 400 (a null character is refused anywhere); authenticated
    ones 401 and 403; ones with a path parameter 404; ones with a body 413 and 415; throttled
    ones 429. A view adds the others it gives with ``error_statuses = {"POST": {409}}``."""

    def error_statuses(self) -> set[int]:
        statuses = {400}
        if any(requirement for requirement in self.get_auth()):
            statuses |= {401, 403}
        if "{" in self.path:
            statuses.add(404)
        if self.method not in SAFE_METHODS:
            statuses |= {413, 415}
        if self.view.get_throttles():
            statuses.add(429)
        extra = getattr(self.view, "error_statuses", {})
        statuses |= set(extra.get(self.method, ()))
        return statuses

    def _get_response_bodies(self, direction: Any = "response") -> dict[str, Any]:
        responses = dict(super()._get_response_bodies(direction))
        for code in sorted(self.error_statuses()):
            if str(code) not in responses:
                responses[str(code)] = self._get_response_for_code(
                    OpenApiResponse(ErrorSerializer, description=ERROR_DESCRIPTIONS[code]),
                    str(code),
                    direction=direction,
                )
        return responses
