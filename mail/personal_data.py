"""Email's personal data about a contact (``customers.registry``;
docs/customers-privacy.md): the inbound emails from the contact's addresses (what arrived,
when, what it became) for an access request; for an erasure their raw files are deleted and
the sender, recipients, subject and error text erased (the rows stay: mail volumes are
unchanged), and the address's delivery state (bounces, loop limits) is forgotten."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q

from customers.registry import PersonalData

from .models import AddressState, InboundEmail

NAME = "email"


def _addresses(contact: Any) -> list[str]:
    points = contact.points.filter(kind="email").values_list("value", flat=True)
    return sorted({a.lower() for a in [contact.email, *points] if a})


def _from_contact(contact: Any) -> Any:
    condition = Q(pk__in=[])
    for address in _addresses(contact):
        condition |= Q(sender__icontains=address)
    return InboundEmail.objects.filter(condition)


def export(contact: Any) -> list[dict[str, Any]]:
    return [
        {
            "received_at": row.received_at.isoformat(),
            "from": row.sender,
            "subject": row.subject,
            "status": row.status,
            "became": f"{row.subject_kind} {row.object_id}" if row.subject_kind else "",
        }
        for row in _from_contact(contact).order_by("received_at", "id")
    ]


def erase(contact: Any, placeholder: str) -> int:
    rows = _from_contact(contact)
    names = [name for name in rows.values_list("raw", flat=True) if name]
    changed = rows.update(sender="", recipients="", subject="", raw="", error="")
    AddressState.objects.filter(address__in=_addresses(contact)).delete()
    if names:
        transaction.on_commit(lambda: _delete(names))
    return changed


def _delete(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)


def register() -> None:
    from customers import registry

    registry.register_personal_data(PersonalData(NAME, export, erase))
