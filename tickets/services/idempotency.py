"""An action done once per ``Idempotency-Key``: a retried or double-submitted request is
answered with the ticket as it now stands instead of acting twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from ..errors import Conflict
from ..models import IdempotencyKey


def request_fingerprint(path: str, body: Any) -> str:
    """What a key stands for: the endpoint and the body (the same key on another endpoint,
    or with another body, is a client's mistake, not a retry)."""
    canonical = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def perform_once(
    *,
    actor: Any,
    key: str,
    fingerprint: str,
    ticket_id: int,
    perform: Callable[[], None],
) -> bool:
    """Runs ``perform`` unless this key was already used for the same request; True when it
    ran. The key is claimed in the action's own transaction, so a concurrent duplicate waits
    on the claim and is then answered as a replay, and a failed action frees its key."""
    if _already_done(actor, key, fingerprint):
        return False
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=actor, key=key, request_hash=fingerprint, ticket_id=ticket_id
            )
            perform()
    except IntegrityError:
        if not _already_done(actor, key, fingerprint):
            raise
        return False
    return True


def _already_done(actor: Any, key: str, fingerprint: str) -> bool:
    used = (
        IdempotencyKey.objects.filter(user=actor, key=key)
        .values_list("request_hash", flat=True)
        .first()
    )
    if used is None:
        return False
    if used != fingerprint:
        raise Conflict(
            _("This Idempotency-Key was already used with a different request."),
            {"idempotency_key": [_("Reused with a different body.")]},
        )
    return True
