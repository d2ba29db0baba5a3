"""Links between objects of different kinds, both ways (a ticket escalated into a
complaint shows the complaint; the complaint shows the ticket)."""

from __future__ import annotations

from typing import Any

from .models import Link


def link(
    *,
    kind: str,
    object_id: int,
    number: str,
    other_kind: str,
    other_id: int,
    other_number: str,
    relation: str,
) -> None:
    """Records the link both ways (in the caller's transaction); twice is once."""
    for row in (
        Link(
            kind=kind,
            object_id=object_id,
            other_kind=other_kind,
            other_id=other_id,
            other_number=other_number,
            relation=relation,
        ),
        Link(
            kind=other_kind,
            object_id=other_id,
            other_kind=kind,
            other_id=object_id,
            other_number=number,
            relation=relation,
        ),
    ):
        Link.objects.bulk_create([row], ignore_conflicts=True)


def links_of(kind: str, object_id: int) -> list[dict[str, Any]]:
    """``[{"kind", "id", "number", "relation"}]``, oldest first."""
    return [
        {"kind": k, "id": i, "number": n, "relation": r}
        for k, i, n, r in Link.objects.filter(kind=kind, object_id=object_id)
        .order_by("created_at", "id")
        .values_list("other_kind", "other_id", "other_number", "relation")
    ]
