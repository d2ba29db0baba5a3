"""What an inbound email looks like to a process, and how a process takes one.

The mail app turns raw mail into a ``ParsedEmail`` (mail/parse.py) and decides what must
never reach a process (bounces, blocked senders, our own mail); a process app registers a
``MailHandler`` for its kind in its ``AppConfig.ready`` (tickets: "ticket") and does the
threading and the change in the caller's transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class IncomingAttachment:
    name: str
    content_type: str
    data: bytes
    inline: bool = False


@dataclass(frozen=True)
class ParsedEmail:
    message_id: str  # "<…@…>", as in the header ("" when the message had none)
    sender: str  # the From address, lower case
    sender_name: str
    subject: str
    text: str  # the new part: quoted history and signature stripped
    full_text: str  # the whole plain-text body
    html: str  # the HTML body, sanitised (nh3); "" when the message had none
    in_reply_to: str = ""
    references: tuple[str, ...] = ()
    recipients: tuple[str, ...] = ()  # To, Cc, Delivered-To and the envelope, lower case
    attachments: tuple[IncomingAttachment, ...] = ()
    # RFC 3834: Auto-Submitted other than "no", Precedence bulk/list/junk, List-Id, …
    # The message is taken, but nothing automatic is sent back.
    automatic: bool = False
    language: str = "en"  # a guess from the text: "zh-hans" when it is mostly Chinese
    date: datetime | None = None
    raw: bytes = field(default=b"", repr=False)  # the message as received


@dataclass(frozen=True)
class Handled:
    subject_kind: str  # "ticket"
    object_id: int
    message_id: int | None  # the process's message row, when one was written
    created: bool  # a new subject (a new ticket) rather than a reply


class MailHandler(Protocol):
    def receive(self, email: ParsedEmail) -> Handled:
        """Threads or opens, in the caller's transaction. Raises to quarantine the mail."""
        ...


_handlers: dict[str, MailHandler] = {}


def register_handler(kind: str, handler: MailHandler) -> None:
    _handlers[kind] = handler


def handler_for(kind: str) -> MailHandler:
    try:
        return _handlers[kind]
    except KeyError:
        raise LookupError(f"no mail handler for {kind!r}") from None


# How many of a reply's References are looked at, newest first (a long thread's oldest
# ids add nothing a newer one does not say).
MAX_REFERENCES = 50
MESSAGE_ID = re.compile(r"<[^<>\s]+>")


def message_ids(value: str) -> list[str]:
    """The Message-IDs in a header value, in order, each as ``<…>``."""
    found = MESSAGE_ID.findall(value or "")
    if not found and value and value.strip(" <>"):
        found = ["<" + value.strip(" <>") + ">"]
    return found


def thread_ids(email: ParsedEmail) -> list[str]:
    """The ids a reply names its conversation by: In-Reply-To, then References newest
    first (at most ``MAX_REFERENCES``), each once. Every process's mail handler threads by
    them."""
    ids = message_ids(email.in_reply_to)
    references: list[str] = []
    for value in email.references:
        references.extend(message_ids(value))
    ids.extend(reversed(references[-MAX_REFERENCES:]))
    return list(dict.fromkeys(ids))
