"""The one timeline of a customer (or a contact): every audit row that names them, newest
first, keyset-paged (docs/customers-360.md).

One index scan per page: ``audit_customer_idx`` is ``(customer, created_at DESC, id DESC)``
where the customer is set, so ``customer = X AND created_at <= cursor`` starts the scan at
the cursor and reads ``limit + 1`` rows in the index's order, however deep the page (the
rows with the cursor's own time are filtered by id). The timeline is generic over kinds:
whatever app records an audit row with the customer (tickets, complaints, survey answers,
customers' own changes, campaign touches and care activities when they come) appears.

What a reader sees of an entry: everyone its kind, verb and time; the service roles
(``permissions.sees_work_contents``) also who did it and — for work they may see
(``processes.visibility``) — the object's number, title and link. The visibility and the
descriptions are asked once per kind per page (``visible_ids``, ``describe_many``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Q, QuerySet
from django.utils.functional import Promise
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from audit import verbs
from audit.models import AuditEvent
from core.errors import NotFound
from core.pagination import Position, check, decode, encode
from org.selectors import person_names
from processes import subjects, visibility

from .. import permissions
from . import contacts_visible_to, customers_visible_to

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100

# Where a reader opens an object of a work kind.
LINKS = {"ticket": "/tickets/{id}/", "complaint": "/complaints/{id}/"}
KIND_LABELS: dict[str, str | Promise] = {
    "ticket": _("Ticket"),
    "complaint": _("Complaint"),
    "survey": _("Survey answer"),
    "customer": _("Customer"),
    "contact": _("Contact"),
    "segment": _("Segment"),
    "import": _("Import"),
    "export": _("Export"),
    "privacy": _("Privacy request"),
    "campaign": _("Campaign"),
    "care": _("Care activity"),
}


@dataclass(frozen=True)
class Subject:
    kind: str
    id: int
    number: str
    title: str
    url: str


@dataclass(frozen=True)
class Entry:
    id: int
    at: datetime
    kind: str
    kind_label: str
    verb: str
    verb_label: str
    actor: str | None
    score: int | None
    subject: Subject | None


@dataclass(frozen=True)
class TimelinePage:
    entries: list[Entry]
    next: str | None
    previous: str | None


def kind_label(kind: str) -> str:
    found = KIND_LABELS.get(kind)
    return str(found) if found is not None else kind


def _work_ref(event: AuditEvent, work_kinds: set[str]) -> tuple[str, int] | None:
    """The work object an event is about: its own subject for a work kind, the ticket or
    complaint a survey answer rated."""
    kind = event.subject_kind
    if kind in work_kinds:
        pk = event.ticket_id or event.complaint_id or event.object_id
        return (kind, int(pk)) if pk else None
    after = event.after if isinstance(event.after, dict) else {}
    rated, rated_id = after.get("subject_kind"), after.get("subject_id")
    if kind == "survey" and rated in work_kinds and isinstance(rated_id, int):
        return (str(rated), rated_id)
    return None


def _actor_names(events: list[AuditEvent]) -> dict[int, str]:
    """The names of the page's actors, in one query (no join in the page's index scan)."""
    ids = {e.actor_id for e in events if e.actor_id is not None}
    if not ids:
        return {}
    return person_names(get_user_model().objects.filter(pk__in=ids))


def entries_for(user: Any, events: list[AuditEvent]) -> list[Entry]:
    """The page's rows as ``user`` may read them: one visibility and one description query
    per work kind on the page, whatever its length."""
    contents = permissions.sees_work_contents(user)
    work_kinds = visibility.kinds()
    refs = {e.pk: _work_ref(e, work_kinds) for e in events}
    facts: dict[tuple[str, int], subjects.SubjectFacts] = {}
    if contents:
        wanted: dict[str, set[int]] = defaultdict(set)
        for ref in refs.values():
            if ref is not None:
                wanted[ref[0]].add(ref[1])
        for kind, ids in wanted.items():
            seen = visibility.visible_ids(user, kind, ids)
            for pk, found in subjects.describe_many(kind, seen).items():
                facts[(kind, pk)] = found
    names = _actor_names(events) if contents else {}
    rows = []
    for event in events:
        ref = refs[event.pk]
        subject = None
        if ref is not None and ref in facts:
            found = facts[ref]
            link = LINKS.get(ref[0], "")
            subject = Subject(
                kind=ref[0],
                id=ref[1],
                number=found.number,
                title=found.title,
                url=link.format(id=ref[1]) if link else "",
            )
        after = event.after if isinstance(event.after, dict) else {}
        score = after.get("score") if event.subject_kind == "survey" else None
        rows.append(
            Entry(
                id=event.pk,
                at=event.created_at,
                kind=event.subject_kind,
                kind_label=kind_label(event.subject_kind),
                verb=event.verb,
                verb_label=verbs.label(event.subject_kind, event.verb),
                actor=names.get(event.actor_id) if event.actor_id else None,
                score=score if isinstance(score, int) else None,
                subject=subject,
            )
        )
    return rows


def _page(rows: QuerySet[AuditEvent], cursor: str | None, limit: int) -> tuple[list[Any], Any]:
    """Newest first from the cursor: ``created_at <= t`` bounds the index scan, the id breaks
    ties among rows of the same time. A backwards cursor reads the newer rows the same way."""
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    pos = decode(cursor) if cursor else None
    if pos is not None:
        check(AuditEvent, "created_at", pos)
        if pos.value is None:
            raise NotFound(gettext("No such page."))
    if pos is not None and pos.backwards:
        newer = rows.filter(created_at__gte=pos.value).filter(
            Q(created_at__gt=pos.value) | Q(id__gt=pos.pk)
        )
        found = list(newer.order_by("created_at", "id")[: limit + 1])
        more_newer = len(found) > limit
        items = list(reversed(found[:limit]))
        nxt = _cursor(items[-1], False) if items else None
        prev = _cursor(items[0], True) if items and more_newer else None
        return items, (nxt, prev)
    if pos is not None:
        rows = rows.filter(created_at__lte=pos.value).filter(
            Q(created_at__lt=pos.value) | Q(id__lt=pos.pk)
        )
    found = list(rows.order_by("-created_at", "-id")[: limit + 1])
    items = found[:limit]
    nxt = _cursor(items[-1], False) if items and len(found) > limit else None
    prev = _cursor(items[0], True) if items and pos is not None else None
    return items, (nxt, prev)


def _cursor(event: AuditEvent, backwards: bool) -> str:
    return encode(Position(event.created_at, event.pk, backwards))


def customer_events(customer_id: int) -> QuerySet[AuditEvent]:
    """The customer's audit rows (the partial index's condition spelt out, so the planner
    may use it)."""
    return AuditEvent.objects.filter(customer_id=customer_id, customer__isnull=False)


def contact_events(contact_id: int) -> QuerySet[AuditEvent]:
    return AuditEvent.objects.filter(contact_id=contact_id, contact__isnull=False)


def _read(user: Any, rows: QuerySet[AuditEvent], cursor: str | None, limit: int) -> TimelinePage:
    items, (nxt, prev) = _page(rows, cursor, limit)
    return TimelinePage(entries_for(user, items), nxt, prev)


def timeline_for(
    user: Any, customer_id: int, cursor: str | None = None, limit: int = PAGE_SIZE
) -> TimelinePage:
    """A page of the customer's timeline, newest first; 404 for a customer the user may not
    see."""
    if not customers_visible_to(user).filter(pk=customer_id).exists():
        raise NotFound(gettext("Customer not found."))
    return _read(user, customer_events(customer_id), cursor, limit)


def contact_timeline_for(
    user: Any, contact_id: int, cursor: str | None = None, limit: int = PAGE_SIZE
) -> TimelinePage:
    """A page of the contact's timeline (``AuditEvent.contact``, ``audit_contact_idx``)."""
    if not contacts_visible_to(user).filter(pk=contact_id).exists():
        raise NotFound(gettext("Contact not found."))
    return _read(user, contact_events(contact_id), cursor, limit)
