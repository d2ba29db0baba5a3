"""Finding tickets: the list's filters (one parser for the REST list, the tickets screen and
saved views) and the text search that works for Chinese as well as English.

The text search (docs/tickets.md, "Tickets list and search") reads one column,
``Ticket.search_terms``: the terms of the ticket's number, subject, description, contact
(name, email) and customer name, computed here by pure functions —

* Latin (and other space-separated) words, lower-cased and NFKC-normalised (full-width
  letters and digits become ASCII), with their prefixes of 3 to 12 characters, so that
  ``print`` finds ``printer``; a word mixing letters and digits (``kx4471``) also gives
  its letter and digit runs, and words joined by hyphens (``wi-fi``, ``kx-4471``) also
  the joined word;
* Chinese (and Japanese kana) runs as **bigrams**, every two adjacent characters, since the
  text has no spaces between words: ``打印机坏了`` → 打印, 印机, 机坏, 坏了; a run of one
  character is kept as it is, and the subject and the contact's name also give every
  single character (a surname, a one-character word of a title);
* the ticket's number (``t-2026-000123``), its sequence with and without the zeros.

A search turns its text into the same kind of terms (a word into itself cut at 12
characters, a Chinese run into its bigrams) and asks for tickets holding all of them:
``search_terms @> '[…]'`` on PostgreSQL, answered by a GIN index (``jsonb_path_ops``,
tickets 0016); the embedded SQLite mode looks for each term in the column's JSON text.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import connections, router, transaction
from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from core.errors import InvalidInput
from core.params import bool_value, int_value

# Han ideographs (basic, extension A, compatibility, the supplementary planes' extensions)
# and Japanese kana: written without spaces, so searched by bigrams.
CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_RUNS = re.compile(rf"(?P<cjk>[{CJK}]+)|(?P<word>(?:(?![{CJK}])[^\W_])+)")
_PARTS = re.compile(r"\d+|[^\W\d_]+")
_HYPHENATED = re.compile(rf"(?:(?![{CJK}])[^\W_])+(?:-(?:(?![{CJK}])[^\W_])+)+")
_NUMBER = re.compile(r"[a-z]+-\d{4}-(\d+)")
MIN_PREFIX = 3
MAX_PREFIX = 12
# A description's text beyond this is not indexed (a pasted log or mail thread would make
# thousands of terms); the subject and the first 2,000 characters say what a ticket is.
MAX_DESCRIPTION = 2000
# A search's terms beyond this are ignored (each is one more index probe).
MAX_QUERY_TERMS = 16
MAX_SEARCH_LENGTH = 200


def normalise(text: str) -> str:
    """NFKC (full-width forms to ASCII, compatibility ideographs to their unified ones) and
    case-folded: what both sides of a search compare."""
    return unicodedata.normalize("NFKC", text).casefold()


def _word_terms(word: str) -> set[str]:
    if len(word) < MIN_PREFIX:
        return {word}
    return {word[:n] for n in range(MIN_PREFIX, min(len(word), MAX_PREFIX) + 1)}


def _words(word: str) -> set[str]:
    terms = _word_terms(word)
    parts = _PARTS.findall(word)
    if len(parts) > 1:  # kx4471: also kx and 4471
        for part in parts:
            terms |= _word_terms(part)
    return terms


def _cjk_terms(run: str, *, unigrams: bool) -> set[str]:
    if len(run) == 1:
        return {run}
    terms = {run[i : i + 2] for i in range(len(run) - 1)}
    if unigrams:
        terms.update(run)
    return terms


def text_terms(text: str, *, unigrams: bool = False) -> set[str]:
    """The terms a text is found by (module docstring); ``unigrams``: every Chinese
    character too, for short texts searched by one character (a name, the subject)."""
    terms: set[str] = set()
    text = normalise(text)
    for match in _RUNS.finditer(text):
        if run := match.group("cjk"):
            terms |= _cjk_terms(run, unigrams=unigrams)
        else:
            terms |= _words(match.group("word"))
    for match in _HYPHENATED.finditer(text):  # wi-fi, kx-4471: also wifi, kx4471
        terms |= _words(match.group(0).replace("-", ""))
    return terms


def number_terms(number: str) -> set[str]:
    """``T-2026-000123``: the whole number, ``000123`` and ``123``."""
    whole = normalise(number)
    terms = {whole} if whole else set()
    if match := _NUMBER.fullmatch(whole):
        sequence = match.group(1)
        terms |= {sequence, str(int(sequence))}
    return terms


def ticket_terms(
    *,
    number: str,
    subject: str,
    description: str,
    contact_name: str = "",
    contact_email: str = "",
    customer_name: str = "",
) -> list[str]:
    """``Ticket.search_terms``: sorted, each once."""
    terms = number_terms(number)
    terms |= text_terms(subject, unigrams=True)
    terms |= text_terms(description[:MAX_DESCRIPTION])
    terms |= text_terms(contact_name, unigrams=True)
    terms |= text_terms(contact_email)
    terms |= text_terms(customer_name)
    return sorted(terms)


def terms_of(ticket: Any) -> list[str]:
    """The terms of a ticket in memory (its contact and customer as it holds them)."""
    contact = ticket.contact
    customer = ticket.customer if ticket.customer_id else None
    return ticket_terms(
        number=ticket.number,
        subject=ticket.subject,
        description=ticket.description,
        contact_name=contact.name if contact else "",
        contact_email=contact.email if contact else "",
        customer_name=customer.name if customer else "",
    )


def intake_terms(
    number: str, subject: str, description: str, contact: Any, customer: Any
) -> list[str]:
    """A new ticket's terms (``open_ticket``): its contact, and its customer (the contact's
    when none is given)."""
    customer = customer if customer is not None else contact.customer
    return ticket_terms(
        number=number,
        subject=subject,
        description=description,
        contact_name=contact.name,
        contact_email=contact.email,
        customer_name=customer.name if customer is not None else "",
    )


def query_terms(text: str) -> list[str]:
    """The terms a ticket must hold to match the search ``text`` (all of them); empty when
    the text has nothing to search by (punctuation, spaces)."""
    text = normalise(text)
    terms: list[str] = []

    def add(term: str) -> None:
        if term not in terms:
            terms.append(term)

    for match in _NUMBER.finditer(text):  # a ticket number is one term, not three words
        add(match.group(0))
    text = _NUMBER.sub(" ", text)
    for match in _RUNS.finditer(text):
        if run := match.group("cjk"):
            if len(run) == 1:
                add(run)
            for i in range(len(run) - 1):
                add(run[i : i + 2])
        else:
            add(match.group("word")[:MAX_PREFIX])
    return terms[:MAX_QUERY_TERMS]


def matching(qs: QuerySet[Any], text: str) -> QuerySet[Any]:
    """``qs`` narrowed to the tickets the search ``text`` finds (all its terms)."""
    terms = query_terms(text)
    if not terms:
        return qs
    vendor = connections[router.db_for_read(qs.model)].vendor
    if vendor == "postgresql":
        # jsonb containment, answered by the GIN index ticket_search_terms_gin
        return qs.filter(search_terms__contains=terms)
    # The embedded mode stores the array as JSON text: each term, quoted as JSON writes it,
    # is a whole element of it.
    condition = Q()
    for term in terms:
        condition &= Q(search_terms__icontains=json.dumps(term))
    return qs.filter(condition)


# --- the list's filters --------------------------------------------------------------------
# The filters of the tickets screen and of saved views (a subset of the REST list's: no
# ordering, no cursor, no ``q``).
SCREEN_FILTERS = (
    "status",
    "priority",
    "team",
    "assignee",
    "customer",
    "category",
    "breached",
    "search",
)


@dataclass(frozen=True)
class TicketFilters:
    """What a list of tickets is narrowed to; None (or empty) means any."""

    statuses: tuple[str, ...] = ()
    priority: str | None = None
    team: int | None = None
    # "me", "none" or a user id
    assignee: str | int | None = None
    customer: int | None = None
    category: str | None = None
    breached: bool | None = None
    # the REST list's ``q``: the number, or text in the subject (substring)
    q: str = ""
    # the text search (terms: module docstring)
    search: str = ""

    @property
    def empty(self) -> bool:
        return self == TicketFilters()


def _values(params: Mapping[str, Any], name: str) -> list[str]:
    """A parameter's values: repeated (a form's check boxes) or comma-separated."""
    getlist = getattr(params, "getlist", None)
    raw = getlist(name) if getlist is not None else [params.get(name)]
    return [v for value in raw if value for v in str(value).split(",")]


def _text(params: Mapping[str, Any], name: str) -> str:
    value = str(params.get(name) or "").strip()
    if len(value) > MAX_SEARCH_LENGTH:
        raise InvalidInput(
            _("Search text too long."),
            {name: [_("At most %(count)s characters.") % {"count": MAX_SEARCH_LENGTH}]},
        )
    return value


def parse_filters(params: Mapping[str, Any]) -> TicketFilters:
    """The filters a query string asks for; 400 (``InvalidInput``, naming the parameter)
    for a value that is not one. Unknown parameters are ignored (the caller's own)."""
    from .choices import Priority, TicketStatus
    from .models import Category

    statuses = _values(params, "status")
    unknown = [v for v in statuses if v not in TicketStatus.values]
    if unknown:
        raise InvalidInput(
            _("Unknown status."),
            {"status": [_("Unknown: %(values)s.") % {"values": ", ".join(unknown)}]},
        )
    priority = params.get("priority") or None
    if priority is not None and priority not in Priority.values:
        raise InvalidInput(_("Unknown priority."), {"priority": [_("Use P1, P2, P3 or P4.")]})
    team = int_value(params, "team")
    customer = int_value(params, "customer")
    assignee: str | int | None = params.get("assignee") or None
    if assignee not in (None, "me", "none"):
        assignee = int_value(params, "assignee")
    breached = bool_value(params, "breached")
    q = _text(params, "q")
    text = _text(params, "search")
    category = str(params.get("category") or "").strip() or None
    if category is not None and not Category.objects.filter(code=category).exists():
        raise InvalidInput(
            _("Unknown category."),
            {"category": [_("No category with code %(code)s.") % {"code": repr(category)}]},
        )
    return TicketFilters(
        statuses=tuple(dict.fromkeys(statuses)),
        priority=priority,
        team=team,
        assignee=assignee,
        customer=customer,
        category=category,
        breached=breached,
        q=q,
        search=text,
    )


def apply_filters(qs: QuerySet[Any], filters: TicketFilters, *, me: int) -> QuerySet[Any]:
    """``qs`` (tickets the reader may see) narrowed by ``filters``; ``me``: the reader's id,
    for ``assignee=me``."""
    if filters.statuses:
        qs = qs.filter(status__in=filters.statuses)
    if filters.priority:
        qs = qs.filter(priority=filters.priority)
    if filters.team is not None:
        qs = qs.filter(team_id=filters.team)
    if filters.customer is not None:
        qs = qs.filter(customer_id=filters.customer)
    if filters.assignee == "me":
        qs = qs.filter(assignee_id=me)
    elif filters.assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif filters.assignee is not None:
        qs = qs.filter(assignee_id=filters.assignee)
    if filters.category:
        qs = qs.filter(category__code=filters.category)
    if filters.breached is True:
        qs = qs.filter(sla_clock__breached=True)
    elif filters.breached is False:
        qs = qs.filter(Q(sla_clock__isnull=True) | Q(sla_clock__breached=False))
    if filters.q:
        qs = qs.filter(Q(number__iexact=filters.q) | Q(subject__icontains=filters.q))
    if filters.search:
        qs = matching(qs, filters.search)
    return qs


def screen_query(filters: TicketFilters) -> dict[str, str]:
    """The screen's query parameters for ``filters`` (what a saved view stores)."""
    values: dict[str, Any] = {
        "status": ",".join(filters.statuses),
        "priority": filters.priority,
        "team": filters.team,
        "assignee": filters.assignee,
        "customer": filters.customer,
        "category": filters.category,
        "breached": None if filters.breached is None else str(filters.breached).lower(),
        "search": filters.search,
    }
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


# --- keeping the terms current ---------------------------------------------------------
REFRESH_BATCH = 1000


def refresh_terms(ticket_ids: Iterable[int] | None = None, *, batch: int = REFRESH_BATCH) -> int:
    """Recomputes ``search_terms`` of the given tickets (all when None), ``batch`` at a time,
    each batch in its own transaction; returns how many rows changed. Not a change of the
    ticket (no version, no audit): the column is an index of what the ticket says."""
    from .models import Ticket

    base = Ticket.objects.order_by("pk")
    if ticket_ids is not None:
        ids = sorted(set(ticket_ids))
        chunks: Iterable[list[int]] = (ids[i : i + batch] for i in range(0, len(ids), batch))
    else:
        chunks = _id_chunks(base, batch)
    changed = 0
    for chunk in chunks:
        with transaction.atomic():
            rows = list(
                base.filter(pk__in=chunk)
                .select_related("contact", "customer")
                .only(
                    "pk",
                    "number",
                    "subject",
                    "description",
                    "search_terms",
                    "customer_id",
                    "contact__name",
                    "contact__email",
                    "customer__name",
                )
            )
            stale = []
            for ticket in rows:
                terms = terms_of(ticket)
                if ticket.search_terms != terms:
                    ticket.search_terms = terms
                    stale.append(ticket)
            if stale:
                Ticket.objects.bulk_update(stale, ["search_terms"])
            changed += len(stale)
    return changed


def _id_chunks(qs: QuerySet[Any], batch: int) -> Iterable[list[int]]:
    last = 0
    while True:
        ids = list(qs.filter(pk__gt=last).values_list("pk", flat=True)[:batch])
        if not ids:
            return
        yield ids
        last = ids[-1]


def _contact_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    """A contact's name or address changed (the admin): its tickets' terms follow, after
    the change commits. A new contact has no tickets yet."""
    fields = kwargs.get("update_fields")
    if created or (fields is not None and not {"name", "email"} & set(fields)):
        return
    _refresh_on_commit("contact_id", instance.pk)


def _customer_saved(sender: Any, instance: Any, created: bool, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if created or (fields is not None and "name" not in fields):
        return
    _refresh_on_commit("customer_id", instance.pk)


def _refresh_on_commit(field: str, pk: int) -> None:
    from .models import Ticket

    def refresh() -> None:
        refresh_terms(Ticket.objects.filter(**{field: pk}).values_list("pk", flat=True))

    transaction.on_commit(refresh)


def connect() -> None:
    """Keeps the terms current when a contact or a customer is renamed (``TicketsConfig``);
    intake writes a new ticket's terms itself (``services.open_ticket``)."""
    from django.db.models.signals import post_save

    from customers.models import Contact, Customer

    post_save.connect(_contact_saved, sender=Contact, dispatch_uid="kefu-ticket-search-contact")
    post_save.connect(_customer_saved, sender=Customer, dispatch_uid="kefu-ticket-search-customer")
