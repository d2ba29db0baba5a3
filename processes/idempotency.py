"""A request done once per ``Idempotency-Key``, for every process app (docs/api.md, "Beyond
the contract"): a retried or double-submitted request is answered with what the first one
made, or with the object as it now stands, instead of acting twice.

The key is claimed in the action's own transaction (a row unique per person and key), so a
concurrent duplicate waits on the claim and is then answered as a replay, and a request
that fails rolls its claim back with everything else: the key is free again."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import Conflict, InvalidInput
from org.roles import Person

from .models import RequestKey


def key_from_headers(headers: Mapping[str, str]) -> str | None:
    """The request's ``Idempotency-Key`` (docs/api.md), None without one; 400 unless it is
    1 to 255 characters with no NUL. The tickets' and the complaints' endpoints read it so."""
    key = headers.get("Idempotency-Key")
    if key is not None and (not 1 <= len(key) <= 255 or "\x00" in key):
        raise InvalidInput(
            _("Invalid Idempotency-Key."),
            {"idempotency_key": [_("1 to 255 characters.")]},
        )
    return key


def request_fingerprint(path: str, body: Any) -> str:
    """What a key stands for: the endpoint and the body (the same key on another endpoint,
    or with another body, is a client's mistake, not a retry)."""
    canonical = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def previous_use(actor: Person, key: str, fingerprint: str, subject_kind: str) -> RequestKey | None:
    """The committed use of ``key`` by ``actor``, or None; the key used for another request
    is a 409 (``errors.idempotency_key``)."""
    row = RequestKey.objects.filter(user=actor, key=key, object_id__isnull=False).first()
    if row is not None and (row.request_hash != fingerprint or row.subject_kind != subject_kind):
        raise Conflict(
            _("This Idempotency-Key was already used with a different request."),
            {"idempotency_key": [_("Reused with a different body.")]},
        )
    return row


def perform_once(
    *,
    actor: Person,
    key: str,
    fingerprint: str,
    subject_kind: str,
    perform: Callable[[], int],
) -> tuple[int, bool]:
    """Runs ``perform`` (which returns the id of the object it made or changed) unless this
    key was already used for the same request; answers that id and whether it ran now."""
    row = previous_use(actor, key, fingerprint, subject_kind)
    if row is not None:
        assert row.object_id is not None  # the filter's
        return row.object_id, False
    try:
        with transaction.atomic():
            claim = RequestKey.objects.create(
                user=actor, key=key, request_hash=fingerprint, subject_kind=subject_kind
            )
            object_id = perform()
            claim.object_id = object_id
            claim.save(update_fields=["object_id"])
    except IntegrityError:
        # A concurrent request with the same key claimed it first and committed.
        row = previous_use(actor, key, fingerprint, subject_kind)
        if row is None or row.object_id is None:
            raise
        return row.object_id, False
    return object_id, True
