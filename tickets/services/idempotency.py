"""An action done once per ``Idempotency-Key``: a retried or double-submitted request is
answered with the ticket as it now stands instead of acting twice."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.errors import Conflict
from org.roles import Person

from ..models import IdempotencyKey


def request_fingerprint(path: str, body: Any) -> str:
    """What a key stands for: the endpoint and the body (the same key on another endpoint,
    or with another body, is a client's mistake, not a retry)."""
    canonical = json.dumps(body, sort_keys=True, default=str)
    return hashlib.sha256(f"{path}\n{canonical}".encode()).hexdigest()


def perform_once(
    *,
    actor: Person,
    key: str,
    fingerprint: str,
    ticket_id: int,
    perform: Callable[[], None],
) -> bool:
    """Runs ``perform`` unless this key was already used for the same request; True when it
    ran. The key is claimed in the action's own transaction, so a concurrent duplicate waits
    on the claim and is then answered as a replay, and a failed action frees its key."""
    if previous_use(actor, key, fingerprint) is not None:
        return False
    try:
        with transaction.atomic():
            IdempotencyKey.objects.create(
                user=actor, key=key, request_hash=fingerprint, ticket_id=ticket_id
            )
            perform()
    except IntegrityError:
        if previous_use(actor, key, fingerprint) is None:
            raise
        return False
    return True


def previous_use(actor: Person, key: str, fingerprint: str) -> IdempotencyKey | None:
    """The committed use of ``key`` by ``actor`` (intake and actions alike), or None; the key
    used for another request is a 409."""
    row = (
        IdempotencyKey.objects.select_related("ticket")
        .filter(user=actor, key=key, ticket__isnull=False)
        .first()
    )
    if row is not None and row.request_hash != fingerprint:
        raise Conflict(
            _("This Idempotency-Key was already used with a different request."),
            {"idempotency_key": [_("Reused with a different body.")]},
        )
    return row
