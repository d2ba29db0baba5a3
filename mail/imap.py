"""Reading a mailbox over IMAP (docs/email.md, "Mailboxes (IMAP)" and "Alerts").

One round of ``poll_mailbox``: connect (IMAPS, STARTTLS or plain, as the mailbox says, with
a timeout), select the folder, search the messages Kefu has not taken yet, fetch them in
UID order a batch at a time (``BODY.PEEK[]``: fetching marks nothing), hand each to
``mail.services.receive_raw`` and, only once that returned (the message and its ticket
change committed), move the batch to the done folder or flag it ``\\Seen $Kefu``. A crash
between the commit and the move leaves the message in the folder: the next round hands it
over again and ``receive_raw`` recognises its Message-ID. ``ReceiveFailed`` (the message
could not even be recorded) leaves it there too and ends the round.

A per-mailbox lease in the cache keeps two pollers (two beats' tasks, two workers) off one
mailbox at once; should a lease run out under a slow round, the second poller is still
harmless for the same reason. Failures to reach the mailbox (authentication, TLS, the
connection, the folder) are written on the mailbox and told to administrators once per
episode; the first good round clears them and says so."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import (
    CapabilityError,
    IMAPClientAbortError,
    IMAPClientError,
    LoginError,
)

from notifications.messages import MAILBOX_PROBLEMS
from notifications.services import notify_users
from org.roles import ROLE_ADMINISTRATOR

from .models import ImapSecurity, Mailbox
from .services import ReceiveFailed, receive_raw

logger = logging.getLogger(__name__)

# The keyword Kefu sets on a message it took (when the mailbox keeps it in place).
TAKEN_FLAG = b"$Kefu"
SEEN = b"\\Seen"
DELETED = b"\\Deleted"
# At most this many bytes of messages in one FETCH (a large message is fetched alone).
FETCH_BYTES = 8 * 2**20
LOCK_KEY = "kefu:mail:poll:{}"


class Problem(StrEnum):
    """Why a mailbox cannot be read; shown to administrators (the texts are the
    notification's, notifications.messages.MAILBOX_PROBLEMS)."""

    AUTHENTICATION = "authentication"
    TLS = "tls"
    CONNECTION = "connection"
    FOLDER = "folder"
    SERVER = "server"


class MailboxUnreadable(Exception):
    def __init__(self, problem: Problem, detail: str) -> None:
        super().__init__(f"{problem}: {detail}")
        self.problem = problem
        self.detail = detail


@dataclass
class PollResult:
    mailbox_id: int
    taken: int = 0  # recorded by receive_raw, then moved or flagged
    rounds: int = 0  # searches of the folder
    busy: bool = False  # another poller holds the mailbox: nothing done
    skipped: bool = False  # no such mailbox, or it is disabled
    problem: str = ""  # the mailbox could not be read (Problem)
    stopped: str = ""  # "receive_failed" or "budget": messages were left for the next round


# --- the lease ------------------------------------------------------------------------
def lease_seconds() -> float:
    return max(60.0, 4 * settings.KEFU_IMAP_TIMEOUT, 2 * settings.KEFU_IMAP_ROUND_SECONDS)


@contextmanager
def mailbox_lease(mailbox_id: int, lane: int = 0, lanes: int = 1) -> Iterator[Any]:
    """Yields a ``renew`` callable while this poller holds the mailbox's lane, None while
    another does. A lease in the shared cache (Redis in production; the process's own memory
    in the embedded mode, where one thread polls) rather than a database lock, which would
    not survive a transaction-pooling PgBouncer."""
    key = LOCK_KEY.format(f"{mailbox_id}:{lane}/{lanes}")
    token = secrets.token_hex(8)
    seconds = lease_seconds()
    if not cache.add(key, token, timeout=seconds):
        yield None
        return

    def renew() -> None:
        if cache.get(key) == token:
            cache.touch(key, seconds)

    try:
        yield renew
    finally:
        if cache.get(key) == token:
            cache.delete(key)


# --- connecting -----------------------------------------------------------------------
def tls_context() -> ssl.SSLContext:
    """The system's CAs, plus ``KEFU_IMAP_CA_FILE`` (a private CA) when it is set."""
    context = ssl.create_default_context()
    if settings.KEFU_IMAP_CA_FILE:
        context.load_verify_locations(cafile=settings.KEFU_IMAP_CA_FILE)
    return context


def connect(mailbox: Mailbox) -> IMAPClient:
    """A client logged in to ``mailbox``; raises ``MailboxUnreadable``."""
    timeout = SocketTimeout(connect=settings.KEFU_IMAP_TIMEOUT, read=settings.KEFU_IMAP_TIMEOUT)
    client: IMAPClient | None = None
    try:
        if mailbox.security == ImapSecurity.TLS:
            client = IMAPClient(
                mailbox.host,
                port=mailbox.port,
                ssl=True,
                ssl_context=tls_context(),
                timeout=timeout,
            )
        else:
            client = IMAPClient(mailbox.host, port=mailbox.port, ssl=False, timeout=timeout)
            if mailbox.security == ImapSecurity.STARTTLS:
                client.starttls(tls_context())
        client.login(mailbox.username, mailbox.password)
        return client
    except Exception as exc:
        if client is not None:
            _shutdown(client)
        raise unreadable(exc) from exc


def unreadable(exc: BaseException) -> MailboxUnreadable:
    """What an exception of the IMAP conversation says about the mailbox."""
    if isinstance(exc, MailboxUnreadable):
        return exc
    detail = _detail(exc)
    if isinstance(exc, LoginError):
        return MailboxUnreadable(Problem.AUTHENTICATION, detail)
    if isinstance(exc, ssl.SSLError | ssl.CertificateError):
        return MailboxUnreadable(Problem.TLS, detail)
    if isinstance(exc, CapabilityError) and "STARTTLS" in detail.upper():
        return MailboxUnreadable(Problem.TLS, detail)
    if isinstance(exc, OSError | socket.timeout | IMAPClientAbortError | EOFError):
        return MailboxUnreadable(Problem.CONNECTION, detail)
    return MailboxUnreadable(Problem.SERVER, detail)


def _detail(exc: BaseException) -> str:
    text = str(exc)
    if text.startswith("b'") or text.startswith('b"'):
        text = text[2:-1]  # imaplib's errors carry the server's bytes
    return (text or type(exc).__name__)[:500]


def _shutdown(client: IMAPClient) -> None:
    try:
        client.logout()
    except Exception:  # a dead connection cannot say goodbye
        try:
            client.shutdown()
        except Exception:
            logger.debug("IMAP socket already closed")


# --- a round --------------------------------------------------------------------------
def poll_mailbox(mailbox_id: int, lane: int = 0, lanes: int = 1) -> PollResult:
    """Takes the mail waiting in one mailbox (its folder searched again until it is empty
    or ``KEFU_IMAP_ROUND_SECONDS`` passed). Safe to run twice at once, and again after a
    crash at any point.

    With ``lanes`` > 1 this round takes only the conversations of its ``lane``
    (``lane_of``): as many rounds as lanes, in as many worker processes, share a busy
    mailbox, each keeping its conversations in arrival order."""
    if not 0 <= lane < lanes:
        raise ValueError(f"lane {lane} of {lanes}")
    result = PollResult(mailbox_id)
    mailbox = Mailbox.objects.filter(pk=mailbox_id, enabled=True).first()
    if mailbox is None:
        result.skipped = True
        return result
    with mailbox_lease(mailbox_id, lane, lanes) as renew:
        if renew is None:
            result.busy = True
            return result
        try:
            client = connect(mailbox)
            try:
                _take_waiting_mail(client, mailbox, result, renew, Lane(lane, lanes))
            finally:
                _shutdown(client)
        except MailboxUnreadable as exc:
            result.problem = exc.problem
            record_failure(mailbox_id, exc)
            return result
        except (IMAPClientError, OSError, EOFError) as exc:
            failure = unreadable(exc)
            result.problem = failure.problem
            record_failure(mailbox_id, failure)
            return result
    if result.stopped != "receive_failed":  # the mailbox itself was read fine
        record_success(mailbox_id)
    return result


@dataclass(frozen=True)
class Lane:
    index: int
    count: int


def _take_waiting_mail(
    client: IMAPClient, mailbox: Mailbox, result: PollResult, renew: Any, lane: Lane
) -> None:
    try:
        selected = client.select_folder(mailbox.folder)
    except IMAPClientError as exc:
        if isinstance(exc, IMAPClientAbortError):
            raise
        raise MailboxUnreadable(Problem.FOLDER, f"{mailbox.folder}: {_detail(exc)}") from exc
    keywords = b"\\*" in selected.get(b"PERMANENTFLAGS", ())
    if mailbox.done_folder and not client.folder_exists(mailbox.done_folder):
        client.create_folder(mailbox.done_folder)
    # mail that was in the folder before the mailbox was set up is not Kefu's to answer
    since = (mailbox.created_at - timedelta(days=1)).date()
    criteria: list[Any] = ["NOT", "DELETED", "SINCE", since]
    criteria += ["NOT", "KEYWORD", TAKEN_FLAG.decode()] if keywords else ["UNSEEN"]
    deadline = time.monotonic() + settings.KEFU_IMAP_ROUND_SECONDS
    # taken this round (a server that still lists a marked message: never twice a round),
    # and other lanes' messages (theirs to take)
    seen: set[int] = set()
    while True:
        result.rounds += 1
        uids = sorted(int(uid) for uid in client.search(criteria) if int(uid) not in seen)
        if not uids:
            return
        for start in range(0, len(uids), settings.KEFU_IMAP_BATCH):
            batch = uids[start : start + settings.KEFU_IMAP_BATCH]
            for group in _groups_by_size(client, batch, lane, seen):
                # past the budget with mail still waiting: the next task goes on (a round
                # always takes one FETCH, so a slow one still gets somewhere)
                if result.taken and time.monotonic() > deadline:
                    result.stopped = "budget"
                    return
                taken, failed = _receive_group(client, mailbox, group)
                if taken:
                    _mark_taken(client, mailbox, taken, keywords=keywords)
                    seen.update(taken)
                    result.taken += len(taken)
                renew()
                if failed:
                    result.stopped = "receive_failed"
                    return


def _groups_by_size(
    client: IMAPClient, uids: list[int], lane: Lane, others: set[int]
) -> Iterator[list[int]]:
    """The UIDs of ``uids`` in this lane, split so that one FETCH carries at most
    ``FETCH_BYTES`` (one large message alone); a message the server no longer has is left
    out, one of another lane goes into ``others``."""
    items = ["RFC822.SIZE"] + ([THREAD_HEADERS] if lane.count > 1 else [])
    found_items = client.fetch(uids, items)
    group: list[int] = []
    total = 0
    for uid in uids:
        found = found_items.get(uid)
        if found is None:
            continue
        if lane.count > 1 and lane_of(_thread_headers(found), lane.count) != lane.index:
            others.add(uid)
            continue
        size = int(found.get(b"RFC822.SIZE", 0))
        if group and total + size > FETCH_BYTES:
            yield group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield group


def _receive_group(client: IMAPClient, mailbox: Mailbox, uids: list[int]) -> tuple[list[int], bool]:
    """Hands each message of ``uids`` to ``receive_raw`` in UID order; returns the UIDs it
    recorded and whether it stopped at one it could not."""
    fetched = client.fetch(uids, ["BODY.PEEK[]"])
    taken: list[int] = []
    for uid in uids:
        data = fetched.get(uid)
        raw = data.get(b"BODY[]") if data else None
        if raw is None:
            continue  # expunged meanwhile (another client, another poller's MOVE)
        try:
            receive_raw(bytes(raw), source="imap", mailbox=mailbox)
        except ReceiveFailed:
            logger.warning(
                "Mailbox %s: message UID %s could not be recorded; left for the next round",
                mailbox.pk,
                uid,
            )
            return taken, True
        except Exception:
            logger.exception(
                "Mailbox %s: message UID %s failed unexpectedly; left for the next round",
                mailbox.pk,
                uid,
            )
            return taken, True
        taken.append(uid)
    return taken, False


def _mark_taken(client: IMAPClient, mailbox: Mailbox, uids: list[int], *, keywords: bool) -> None:
    """Only ever called with messages whose change committed."""
    messages = uid_set(uids)
    if not mailbox.done_folder:
        client.add_flags(messages, [SEEN, TAKEN_FLAG] if keywords else [SEEN], silent=True)
        return
    if client.has_capability("MOVE"):
        client.move(messages, mailbox.done_folder)
        return
    client.copy(messages, mailbox.done_folder)
    client.add_flags(messages, [DELETED], silent=True)
    if client.has_capability("UIDPLUS"):
        client.uid_expunge(messages)
    else:
        client.expunge()


THREAD_HEADERS = "BODY.PEEK[HEADER.FIELDS (MESSAGE-ID IN-REPLY-TO REFERENCES)]"
MESSAGE_ID = re.compile(rb"<[^<>\s]+>")


def _thread_headers(found: dict[bytes, Any]) -> bytes:
    for key, value in found.items():
        if key.startswith(b"BODY[HEADER.FIELDS") and isinstance(value, bytes):
            return value
    return b""


def conversation_key(headers: bytes) -> bytes:
    """The conversation a message belongs to: the first Message-ID of its References (the
    thread's root), else its In-Reply-To, else its own Message-ID."""
    fields: dict[bytes, bytes] = {}
    name = b""
    for line in headers.splitlines():
        if line[:1] in (b" ", b"\t") and name:
            fields[name] += b" " + line.strip()
        elif b":" in line:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            fields.setdefault(name, value.strip())
    for field in (b"references", b"in-reply-to", b"message-id"):
        ids = MESSAGE_ID.findall(fields.get(field, b""))
        if ids:
            return ids[0].lower()
    return b""


def lane_of(headers: bytes, lanes: int) -> int:
    """Which lane takes a message: by its conversation, so a reply and what it answers are
    taken in order by one poller. A message with no Message-ID at all goes to lane 0."""
    key = conversation_key(headers)
    if not key or lanes <= 1:
        return 0
    return int.from_bytes(hashlib.blake2b(key, digest_size=4).digest(), "big") % lanes


def uid_set(uids: Sequence[int]) -> str:
    """An IMAP sequence set with runs folded ("1:5,8,10:12"), for the commands that mark
    messages. (FETCH takes the list: imapclient matches its answers against it.)"""
    parts: list[str] = []
    ordered = sorted(set(uids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        parts.append(str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}")
        i = j + 1
    return ",".join(parts)


# --- the mailbox's health -------------------------------------------------------------
def administrator_ids() -> list[int]:
    user_model = get_user_model()
    return list(
        user_model.objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name=ROLE_ADMINISTRATOR))
        .values_list("pk", flat=True)
        .distinct()
    )


def record_failure(mailbox_id: int, failure: MailboxUnreadable) -> None:
    """Writes the error on the mailbox; the first failure of an episode tells the
    administrators (an in-app notification each), later ones only update the error."""
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
        if mailbox is None:
            return
        now = timezone.now()
        with translation.override(settings.LANGUAGE_CODE):  # the site's language
            mailbox.last_error = f"{MAILBOX_PROBLEMS[failure.problem]}: {failure.detail}"
        mailbox.last_error_at = now
        fields = ["last_error", "last_error_at", "updated_at"]
        starts_episode = mailbox.failing_since is None
        if starts_episode:
            mailbox.failing_since = now
            fields.append("failing_since")
        mailbox.save(update_fields=fields)
        if starts_episode:
            notify_users(
                recipient_ids=administrator_ids(),
                kind="mailbox_failing",
                data={
                    "mailbox": mailbox.name,
                    "address": mailbox.address,
                    "problem": str(failure.problem),
                    "detail": failure.detail,
                },
                subject_kind="mailbox",
                object_id=mailbox.pk,
            )
    logger.warning("Mailbox %s cannot be read: %s", mailbox_id, failure)


def record_success(mailbox_id: int) -> None:
    """A good round: ``last_polled_at``; after a failure episode, the error cleared and the
    administrators told it is read again."""
    now = timezone.now()
    if Mailbox.objects.filter(pk=mailbox_id, failing_since__isnull=True).update(last_polled_at=now):
        return
    with transaction.atomic():
        mailbox = Mailbox.objects.select_for_update().filter(pk=mailbox_id).first()
        if mailbox is None:
            return
        was_failing = mailbox.failing_since is not None
        mailbox.last_polled_at = now
        mailbox.failing_since = None
        mailbox.last_error = ""
        mailbox.save(update_fields=["last_polled_at", "failing_since", "last_error", "updated_at"])
        if was_failing:
            notify_users(
                recipient_ids=administrator_ids(),
                kind="mailbox_recovered",
                data={"mailbox": mailbox.name, "address": mailbox.address},
                subject_kind="mailbox",
                object_id=mailbox.pk,
            )
    logger.info("Mailbox %s is read again", mailbox_id)
