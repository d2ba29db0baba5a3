"""Writing the audit trail: the one function every service calls."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from org.roles import Actor

from . import verbs
from .models import AuditEvent

# The rows recorded inside ``batch()`` in this context, written when it ends.
_pending: ContextVar[list[AuditEvent] | None] = ContextVar("kefu_audit_pending", default=None)


@contextmanager
def batch() -> Iterator[None]:
    """Rows recorded inside are written together, in order, by one INSERT when the block
    ends (still in the caller's transaction): ticket intake records three (created, routed,
    assigned). Nested blocks join the outer one; rows of a block left by an exception are
    dropped, as its transaction rolls back. Until then a recorded row has no id."""
    if _pending.get() is not None:
        yield
        return
    rows: list[AuditEvent] = []
    token = _pending.set(rows)
    try:
        yield
    finally:
        _pending.reset(token)
    if rows:
        AuditEvent.objects.bulk_create(rows)


def _actor(actor: Actor) -> Any:
    return actor if actor is not None and actor.is_authenticated else None


def record(
    *,
    kind: str,
    verb: str,
    actor: Actor,
    ticket: Any = None,
    complaint: Any = None,
    object_id: int | None = None,
    customer_id: int | None = None,
    contact_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """One audit row, in the caller's transaction (written at once, or at the end of the
    enclosing ``batch()``). ``verb`` must be registered for ``kind`` (``audit.verbs``); work
    names its object by foreign key (``ticket``, ``complaint``), configuration by ``object_id``."""
    if verbs.get(kind, verb) is None:
        raise InvalidInput(_("Unknown audit verb."), {"verb": [f"{kind}.{verb}"]})
    row = AuditEvent(
        subject_kind=kind,
        ticket=ticket,
        complaint=complaint,
        object_id=object_id,
        customer_id=customer_id,
        contact_id=contact_id,
        actor=_actor(actor),
        verb=verb,
        before=before or {},
        after=after or {},
    )
    pending = _pending.get()
    if pending is not None:
        pending.append(row)
    else:
        row.save(force_insert=True)
    return row


def _fields(instance: models.Model, names: list[str]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in names:
        field = instance._meta.get_field(name)
        if not isinstance(field, models.Field):
            continue
        if field.many_to_many:
            related = getattr(instance, name).values_list("pk", flat=True) if instance.pk else []
            found[name] = sorted(related)
        else:
            found[name] = getattr(instance, field.attname)
    # As JSON stores it (times as ISO 8601 text), so before and after compare alike.
    plain: dict[str, Any] = json.loads(json.dumps(found, cls=DjangoJSONEncoder))
    return plain


def configuration_snapshot(instance: models.Model) -> dict[str, Any]:
    """The audited fields of a team, SLA policy or calendar: every concrete field and
    many-to-many but the timestamps and the key."""
    names = [
        f.name
        for f in [*instance._meta.concrete_fields, *instance._meta.many_to_many]
        if f.name not in ("id", "created_at", "updated_at")
    ]
    return _fields(instance, names)


def record_configuration(
    *,
    kind: str,
    verb: str,
    actor: Actor,
    object_id: int,
    before: dict[str, Any],
    after: dict[str, Any],
) -> AuditEvent | None:
    """Audits a change of configuration, only the fields that changed; nothing if none did."""
    changed = sorted(k for k in {*before, *after} if before.get(k) != after.get(k))
    if verb == "changed" and not changed:
        return None
    return record(
        kind=kind,
        verb=verb,
        actor=actor,
        object_id=object_id,
        before={k: before[k] for k in changed if k in before},
        after={k: after[k] for k in changed if k in after},
    )
