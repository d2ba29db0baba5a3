"""The API's body parsers: DRF's, bounded so that no body can reach a view as a server error.

A body is read up to ``DATA_UPLOAD_MAX_MEMORY_SIZE`` and refused past it (413), whether or not
a Content-Length said so; JSON nested deeper than ``MAX_JSON_DEPTH`` (which no Kefu input
needs) and text holding a null character (PostgreSQL cannot store one) are refused with 400
(docs/security.md, "Bad input")."""

from __future__ import annotations

import io
import json
from collections.abc import Mapping
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions, parsers, serializers, status

MAX_JSON_DEPTH = 32


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = gettext_lazy("The request body is too large.")
    default_code = "payload_too_large"


def read_bounded(stream: IO[bytes]) -> bytes:
    """The whole body, or PayloadTooLarge as soon as it passes the limit."""
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    if limit is None:
        return stream.read()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise PayloadTooLarge()
    return body


def null_character_error(field: str) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [_("Null characters are not allowed.")]})


def too_deep_message() -> str:
    return _("JSON nested deeper than %(depth)s levels.") % {"depth": MAX_JSON_DEPTH}


TOO_DEEP = "too_deep"


def structure_problem(data: Any, max_depth: int = MAX_JSON_DEPTH) -> str | None:
    """Walks parsed JSON without recursion: ``TOO_DEEP`` when it nests deeper than
    ``max_depth``; the top-level field (``non_field_errors`` for the body as a whole) where
    a key or a string holds a null character; None when neither."""
    stack: list[tuple[Any, int, str]] = [(data, 1, "non_field_errors")]
    while stack:
        value, depth, field = stack.pop()
        if isinstance(value, str):
            if "\x00" in value:
                return field
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > max_depth:
            return TOO_DEEP
        if isinstance(value, dict):
            for key, item in value.items():
                top = key if depth == 1 else field
                if "\x00" in key:
                    return "non_field_errors" if depth == 1 else field
                stack.append((item, depth + 1, top))
        else:
            stack.extend((item, depth + 1, field) for item in value)
    return None


def check_structure(data: Any) -> None:
    """ParseError for JSON nested too deep, a 400 on the field that holds a null character."""
    problem = structure_problem(data)
    if problem == TOO_DEEP:
        raise exceptions.ParseError(too_deep_message())
    if problem is not None:
        raise null_character_error(problem)


def loads(text: str) -> Any:
    """``json.loads`` that refuses what JSON's grammar allows and no input needs: NaN and
    the infinities, and nesting deep enough to exhaust Python's stack (RecursionError)."""
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise exceptions.ParseError(too_deep_message()) from exc
    except ValueError as exc:
        raise exceptions.ParseError(_("Malformed JSON.")) from exc


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


class KefuJSONParser(parsers.JSONParser):
    """DRF's JSON parser with a bounded read, a depth limit and no null characters."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        # DRF's check of the charset (it refuses bytes-to-bytes codecs); absent from the stubs
        encoding = parsers.get_encoding(dict(parser_context or {}))  # type: ignore[attr-defined]
        body = read_bounded(stream)
        try:
            text = body.decode(encoding)
        except UnicodeDecodeError as exc:
            raise exceptions.ParseError(
                _("The body is not valid %(encoding)s.") % {"encoding": encoding}
            ) from exc
        data = loads(text)
        check_structure(data)
        return data


class KefuFormParser(parsers.FormParser):
    """DRF's form parser with a bounded read and no null characters."""

    def parse(
        self,
        stream: IO[Any],
        media_type: str | None = None,
        parser_context: Mapping[str, Any] | None = None,
    ) -> Any:
        body = read_bounded(stream)
        data = super().parse(io.BytesIO(body), media_type, parser_context)
        for key, values in data.lists():
            if "\x00" in key or any("\x00" in v for v in values):
                raise null_character_error("non_field_errors" if "\x00" in key else key)
        return data


class BoundedJSONField(serializers.JSONField):
    """DRF's JSONField for JSON given as text (a form or multipart field): parsed within
    the JSON parser's bounds, so that deep nesting or a null character is a 400 on the field."""

    def to_internal_value(self, data: Any) -> Any:
        if self.binary or getattr(data, "is_json_string", False):
            if isinstance(data, bytes):
                data = data.decode(errors="replace")
            try:
                data = loads(data)
            except exceptions.ParseError as exc:
                raise serializers.ValidationError(str(exc.detail)) from exc
        problem = structure_problem(data)
        if problem == TOO_DEEP:
            raise serializers.ValidationError(too_deep_message())
        if problem is not None:
            raise serializers.ValidationError(_("Null characters are not allowed."))
        try:
            json.dumps(data, cls=self.encoder)
        except (TypeError, ValueError):
            self.fail("invalid")
        return data
