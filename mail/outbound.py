"""Customer email as it leaves Kefu, for every process (docs/email.md, "Outbound", "Loop
protection"): who may be sent automatic mail (RFC 3834 and the abuse limits), the per-subject
reply address, the thread headers, and rendering an event's email with the administrator's
template — or the shipped default when that template fails.

A process (tickets/emails.py) decides what to send and when; the outbox delivers it. This
module imports no process app."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from datetime import timedelta
from email.utils import parseaddr
from pathlib import Path
from typing import Any

from django.conf import settings
from django.template import Context, Engine, Template
from django.template.utils import get_app_template_dirs
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from outbox.models import OutboxMessage

from .models import AddressState
from .templates import RenderedEmail, language_of, render_event

logger = logging.getLogger(__name__)

# The first line of every email a customer may answer. The inbound parser cuts a reply at
# this line (what stands above it is the customer's answer), so it never changes: a change
# would make the replies to every email sent before it unparseable.
REPLY_MARKER = "##- 请在此行上方回复 / Please type your reply above this line -##"

# RFC 3834: what an automatic message (an acknowledgement, a notice) says of itself.
AUTO_REPLIED = "auto-replied"
# How many message ids ``References`` carries besides the thread's root.
REFERENCES_KEPT = 5

# Why an email was not sent (audit ``after.reason``, the outbox row's ``last_error``).
NO_ADDRESS = "no_address"
OWN_ADDRESS = "own_address"
MACHINE_ADDRESS = "machine_address"
BLOCKED = "blocked"
BOUNCING = "bouncing"
RATE_LIMITED = "rate_limited"

# RFC 3834 §2 (and common practice): mailboxes that are programs, never a person.
_MACHINE_LOCAL = re.compile(
    r"^(mailer-daemon|postmaster|listserv|majordomo|no-?reply|do-?not-?reply|bounces?"
    r"|owner-.*|.*-request|.*-bounces?|.*-owner)$",
    re.IGNORECASE,
)


def normalise(address: str) -> str:
    """The bare address of ``address`` (a display name dropped), lower case."""
    return parseaddr(address or "")[1].strip().lower()


def _local_and_domain(address: str) -> tuple[str, str]:
    local, _at, domain = address.rpartition("@")
    return local, domain


def own_addresses() -> set[str]:
    """Every address Kefu sends or receives as: the support address, the From address and
    KEFU_OWN_ADDRESSES (the mailboxes' addresses belong there), lower case."""
    found = {
        normalise(settings.KEFU_SUPPORT_ADDRESS),
        normalise(settings.DEFAULT_FROM_EMAIL),
        *(normalise(a) for a in settings.KEFU_OWN_ADDRESSES),
    }
    found.discard("")
    return found


def is_own_address(address: str) -> bool:
    """``address`` or its plus-variant (``support+T-2026-000123@…``) is one of ours."""
    address = normalise(address)
    if not address:
        return False
    local, domain = _local_and_domain(address)
    base = f"{local.split('+', 1)[0]}@{domain}"
    ours = own_addresses()
    return address in ours or base in ours


def is_machine_address(address: str) -> bool:
    local, _domain = _local_and_domain(normalise(address))
    return bool(_MACHINE_LOCAL.match(local))


def _state_refusal(address: str) -> str | None:
    state = (
        AddressState.objects.filter(address=normalise(address))
        .values_list("blocked", "bouncing_since")
        .first()
    )
    if state is None:
        return None
    blocked, bouncing_since = state
    if blocked:
        return BLOCKED
    if bouncing_since is not None:
        return BOUNCING
    return None


def automatic_sent_last_hour(address: str, *, cap: int | None = None) -> int:
    """Automatic outbox rows to ``address`` written in the last hour (the partial index
    ``outbox_automatic_to_idx``; counting stops at ``cap``)."""
    rows = OutboxMessage.objects.filter(
        automatic=True, to=address, created_at__gte=timezone.now() - timedelta(hours=1)
    )
    if cap is not None:
        rows = rows[:cap]
    return rows.count()


def automatic_refusal(address: str) -> str | None:
    """Why no automatic email may go to ``address`` now, or None (RFC 3834 and abuse
    limits): not ours, not a program's mailbox, not blocked, not bouncing, and fewer than
    KEFU_AUTO_REPLY_LIMIT automatic emails to it in the last hour. Concurrent senders may
    together pass the limit by the number of them (it bounds storms, not single races)."""
    if not normalise(address):
        return NO_ADDRESS
    if is_own_address(address):
        return OWN_ADDRESS
    if is_machine_address(address):
        return MACHINE_ADDRESS
    refused = _state_refusal(address)
    if refused is not None:
        return refused
    limit = settings.KEFU_AUTO_REPLY_LIMIT
    if automatic_sent_last_hour(address, cap=limit) >= limit:
        return RATE_LIMITED
    return None


def may_send_automatic(address: str) -> bool:
    return automatic_refusal(address) is None


def person_refusal(address: str) -> str | None:
    """Why a person's message (an agent's reply) may not go to ``address``, or None: only a
    blocked or bouncing address (or none, or one of ours) stops it; no hourly limit."""
    if not normalise(address):
        return NO_ADDRESS
    if is_own_address(address):
        return OWN_ADDRESS
    return _state_refusal(address)


def refusal_text(reason: str, address: str) -> str:
    """The refusal as a person reads it (the API answer, the delivery state)."""
    texts = {
        NO_ADDRESS: _("Not emailed: the contact has no email address."),
        OWN_ADDRESS: _("Not emailed: %(address)s is one of our own addresses."),
        MACHINE_ADDRESS: _("Not emailed: %(address)s is an automatic mailbox."),
        BLOCKED: _("Not emailed: %(address)s is blocked."),
        BOUNCING: _("Not emailed: mail to %(address)s bounces."),
        RATE_LIMITED: _(
            "Not emailed: %(address)s already got the most automatic emails allowed in an hour."
        ),
    }
    return texts.get(reason, _("Not emailed (%(reason)s).")) % {
        "address": address,
        "reason": reason,
    }


# --- addresses and headers --------------------------------------------------------------
def reply_address(number: str) -> str:
    """Where the customer's answer goes: ``support+T-2026-000123@…`` with plus-addressing
    (KEFU_PLUS_ADDRESSING), so even a client that drops every header threads; else the
    support address."""
    support = normalise(settings.KEFU_SUPPORT_ADDRESS)
    if not settings.KEFU_PLUS_ADDRESSING or not number or "@" not in support:
        return support
    local, domain = _local_and_domain(support)
    return f"{local}+{number}@{domain}"


def thread_headers(root_id: str, last_ids: Sequence[str]) -> dict[str, str]:
    """``In-Reply-To`` (the latest message of the thread, else its root) and ``References``
    (the root, then the latest few, oldest first, each once), RFC 5322 §3.6.4. Empty when
    the thread has no message yet (this email is its root)."""
    ids = _unique(filter(None, (clean_message_id(i) for i in (root_id, *last_ids))))
    if not ids:
        return {}
    root, rest = ids[0], ids[1:]
    references = [root, *rest[-REFERENCES_KEPT:]]
    return {"In-Reply-To": ids[-1], "References": " ".join(references)}


_MESSAGE_ID = re.compile(r"^<?([^<>\s]+@[^<>\s]+)>?$")


def clean_message_id(value: str | None) -> str:
    """``<id@host>`` as a header may carry it, or "" for anything else (whitespace, line
    breaks or brackets inside: a header must never be split by what a sender wrote)."""
    match = _MESSAGE_ID.match((value or "").strip())
    return f"<{match.group(1)}>" if match else ""


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def with_tag(subject: str, tag: str) -> str:
    """``subject`` carrying ``[tag]`` (the ticket number) even when an administrator's
    template dropped it: inbound threading reads it back from the subject."""
    subject = " ".join(subject.split())
    if not tag or f"[{tag}]" in subject:
        return subject[:255]
    return f"[{tag}] {subject}"[:255]


# --- rendering -----------------------------------------------------------------------
def render(event: str, language: str, context: dict[str, Any]) -> RenderedEmail:
    """``event``'s email in ``language``: the administrator's template, or the shipped
    default when that one fails to compile or render (logged; a broken row never stops the
    email)."""
    context = {"reply_marker": REPLY_MARKER, **context}
    try:
        return render_event(event, language, context)
    except Exception:
        logger.exception("Email template %s (%s) failed; sending the default", event, language)
        return render_default(event, language, context)


def render_default(event: str, language: str, context: dict[str, Any]) -> RenderedEmail:
    language = language_of(language)
    engine = Engine.get_default()
    base = f"mail/events/{event}/{language}"
    with translation.override(language):
        subject = engine.get_template(f"{base}/subject.txt").render(Context(context, False))
        text = engine.get_template(f"{base}/body.txt").render(Context(context, False))
        html = engine.get_template(f"{base}/body.html").render(Context(context, True))
    return RenderedEmail(
        subject=" ".join(subject.split())[:255], text=text.strip() + "\n", html=html
    )


PARTS = ("subject", "body_text", "body_html")
_DEFAULT_FILES = {"subject": "subject.txt", "body_text": "body.txt", "body_html": "body.html"}


def default_source(event: str, language: str) -> dict[str, str]:
    """The shipped default's source, part by part (what an administrator starts from)."""
    engine = Engine.get_default()
    base = f"mail/events/{event}/{language_of(language)}"
    out: dict[str, str] = {}
    for part, name in _DEFAULT_FILES.items():
        template = engine.get_template(f"{base}/{name}")
        source = str(getattr(template, "source", ""))
        out[part] = source.strip() if part == "subject" else source  # a one-line field
    return out


def default_events() -> list[str]:
    """The events that ship a default (``<templates>/mail/events/<event>/``), in every
    app's templates folder and the project's."""
    folders = [Path(d) for d in Engine.get_default().dirs]
    folders += [Path(d) for d in get_app_template_dirs("templates")]
    events: set[str] = set()
    for folder in folders:
        root = folder / "mail" / "events"
        if root.is_dir():
            events.update(p.name for p in root.iterdir() if p.is_dir())
    return sorted(events)


def template_errors(source: str, *, html: bool) -> str | None:
    """Why ``source`` cannot serve as an email template (it does not compile, or fails when
    rendered without data), or None."""
    try:
        template = Template(source, engine=Engine.get_default())
        template.render(Context({"reply_marker": REPLY_MARKER}, autoescape=html))
    except Exception as exc:  # any failure is a reason to refuse the template
        return str(exc) or exc.__class__.__name__
    return None


# --- address states --------------------------------------------------------------------
def block_address(address: str, *, note: str = "") -> AddressState:
    """No email of any kind goes to ``address`` (an administrator's decision)."""
    state, _created = AddressState.objects.get_or_create(address=normalise(address))
    state.blocked = True
    if note:
        state.note = note[:255]
    state.save(update_fields=["blocked", "note", "updated_at"])
    return state


def unblock_address(address: str) -> AddressState | None:
    state = AddressState.objects.filter(address=normalise(address)).first()
    if state is not None and state.blocked:
        state.blocked = False
        state.save(update_fields=["blocked", "updated_at"])
    return state


def clear_bouncing(address: str) -> AddressState | None:
    """The address works again (an administrator checked): automatic mail may go."""
    state = AddressState.objects.filter(address=normalise(address)).first()
    if state is not None and state.bouncing_since is not None:
        state.bouncing_since = None
        state.save(update_fields=["bouncing_since", "updated_at"])
    return state
