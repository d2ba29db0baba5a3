# ruff: noqa: RUF001, RUF003 - Chinese mail clients write full-width colons and commas
"""Raw mail in, a ``ParsedEmail`` out (docs/email.md, "Parsing").

The stdlib ``email`` package reads the MIME (``policy.default``); mail-parser-reply cuts
quoted history and signatures; nh3 sanitises the HTML. Ugly mail is read as well as it can
be (a missing boundary, an unknown charset, raw 8-bit headers, a broken address header):
``Unparseable`` is raised only when nothing usable is left. Delivery reports (RFC 3464)
come out as a ``Bounce`` beside the email, so the caller can keep them from any process.
"""

from __future__ import annotations

import email.utils
import html
import mimetypes
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.message import EmailMessage, Message
from email.parser import BytesHeaderParser, BytesParser, HeaderParser
from html.parser import HTMLParser
from typing import Any

import nh3
from mailparser_reply import EmailMessage as ReplyMessage
from mailparser_reply.constants import MAIL_LANGUAGES, QUOTED_MATCH_INCLUDE

from .inbound import IncomingAttachment, ParsedEmail
from .outbound import REPLY_MARKER

# The line every outbound email of ours starts with; a reply is cut where it reappears.
# Defined here until mail.outbound (written in parallel) lands with the same constant.


class Unparseable(Exception):
    """Nothing usable could be read from the message (it is quarantined, never dropped)."""


@dataclass(frozen=True)
class Bounce:
    """What a delivery report (RFC 3464) says: the addresses it failed for and why."""

    failed: tuple[str, ...]  # the recipients whose delivery failed for good, lower case
    delayed: tuple[str, ...]  # a "delayed" report: still being tried
    status: str  # "5.1.1"
    diagnostic: str  # "smtp; 550 5.1.1 <x@y>: Recipient address rejected"
    original_message_id: str  # the Message-ID of our message that bounced, when quoted


@dataclass(frozen=True)
class Reading:
    """A message as read: the email a process would see, and what kept it from one."""

    email: ParsedEmail
    bounce: Bounce | None = None
    receipt: bool = False  # a read receipt (RFC 8098): nothing for a process
    defects: tuple[str, ...] = field(default=())


@dataclass(frozen=True)
class Envelope:
    """The few headers read without parsing the body (for dedupe and oversized mail)."""

    message_id: str
    sender: str
    subject: str


# --- reply stripping: mail-parser-reply, with the Chinese clients it misses ----------------
# mail-parser-reply takes its patterns per "language" from MAIL_LANGUAGES (its own "david"
# entry is a mail client, not a language). Its "zh" entry misses the clients our customers
# use: the "写道：" line never matches (its look-ahead excludes the very line it looks for),
# headers with a full-width colon ("发件人：", Foxmail), Outlook's "-----原始邮件-----" and QQ
# Mail's "------------------ 原始邮件 ------------------". So Kefu adds a "kefu-zh" entry
# (docs/email.md, "Parsing"); tests/mail/test_parse.py pins each client's layout.
_Q = QUOTED_MATCH_INCLUDE
_SPACE = r"(?:[ \t\xa0]|&nbsp;)"
MAIL_LANGUAGES["kefu-zh"] = {
    # Gmail "在 2026年12月1日 周二 10:00，客服 <x@y> 写道：", Apple Mail "在 2026年12月1日，
    # 10:00，客服 <x@y> 写道：", NetEase "在 2026-12-01 10:00:00，"客服" <x@y> 写道：" (Gmail
    # may wrap it once before the address)
    "wrote_header": r"^("
    + _Q
    + r"(?:在\s*)?\d{2,4}\s*(?:年|[-/.])[^\n]{0,200}?(?:\n"
    + _Q
    + r"[^\n]{0,200}?)?(?:写道|寫道)\s*[：:])\s*$",
    "from_header": [
        # Outlook / Foxmail / QQ Mail header blocks, with an ASCII or a full-width colon
        r"((?:(?:^|\n|\n"
        + _Q
        + r")[* ]*(?:发件人|發件人|寄件者|发送时间|發送時間|傳送時間|时间|日期|收件人|收件者"
        + r"|主题|主旨|抄送|副本)\s*[:：][ *]*(?:\s{,2}).*){2,}(?:\n.*){,1})",
        # "-----原始邮件-----", "------------------ 原始邮件 ------------------"
        r"(^"
        + _Q
        + r"-{5,}"
        + _SPACE
        + r"*(?:原始邮件|原始郵件|邮件原文|Original Message)"
        + _SPACE
        + r"*-{5,}\s*$)",
    ],
    "disclaimers": [],
    "signatures": [],
    "sent_from": r"发自我的|來自我的|来自我的|从我的.*发送",
}
REPLY_LANGUAGES = ["en", "zh", "kefu-zh"]
_MARKER = re.compile(
    r"^[^\n]*?" + r"(?:\s|>)+".join(re.escape(word) for word in REPLY_MARKER.split()),
    re.MULTILINE,
)


def new_part(text: str) -> str:
    """The part of a reply its writer typed: the text above our reply marker, without the
    quoted history and the signature below it. Never empty when ``text`` was not."""
    found = _MARKER.search(text)
    if found:
        text = text[: found.start()]
    # keep_hyphen_lists: a customer's "- item" lines are not a signature
    reading = ReplyMessage(text=text, languages=list(REPLY_LANGUAGES), keep_hyphen_lists=True)
    try:
        replies = reading.read().replies
    except Exception:  # a regex corner of the library; the whole text is still correct
        replies = []
    body = replies[0].body.strip() if replies else ""
    return body or text.strip()


# --- HTML -------------------------------------------------------------------------------
_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "col", "colgroup", "dd",
    "del", "div", "dl", "dt", "em", "font", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i",
    "img", "ins", "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "small", "span", "strike",
    "strong", "sub", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "tt", "u",
    "ul",
}  # fmt: skip
_ATTRIBUTES = {
    "a": {"href", "title"},
    "img": {"src", "alt", "title", "width", "height"},
    "td": {"colspan", "rowspan", "align", "valign"},
    "th": {"colspan", "rowspan", "align", "valign"},
    "ol": {"start"},
    "blockquote": {"cite"},
}
_LINK_SCHEMES = ("https:", "http:", "mailto:")
_IMAGE_SCHEMES = ("cid:", "https:")


def _allowed_url(tag: str, attribute: str, value: str) -> str | None:
    if attribute == "href":
        return value if value.strip().lower().startswith(_LINK_SCHEMES) else None
    if attribute == "src":
        # an image from anywhere else would tell its server the mail was read
        return value if value.strip().lower().startswith(_IMAGE_SCHEMES) else None
    return value


def sanitise_html(markup: str) -> str:
    """HTML safe to show an agent: an allowlist of tags and attributes, no script, style,
    event handler or javascript: URL; images only from the message (cid:) or https."""
    return nh3.clean(
        markup,
        tags=_TAGS,
        clean_content_tags={"script", "style", "title", "head", "noscript", "template"},
        attributes=_ATTRIBUTES,
        attribute_filter=_allowed_url,
        url_schemes={"https", "http", "mailto", "cid"},
        link_rel="noopener noreferrer nofollow",
    ).strip()


class _Text(HTMLParser):
    """HTML as the plain text a person would read: blocks on their own lines, quotes
    prefixed "> " (so the reply stripper finds them), no script or style."""

    BLOCKS = {
        "p", "div", "tr", "table", "ul", "ol", "li", "h1", "h2", "h3", "h4", "h5", "h6",
        "pre", "hr", "blockquote", "dl", "dt", "dd", "section", "article", "header",
        "footer",
    }  # fmt: skip
    PARAGRAPHS = {"p", "table", "blockquote", "pre", "h1", "h2", "h3", "h4", "h5", "h6"}
    SKIP = {"script", "style", "head", "title", "noscript", "template"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = [""]
        self.depth = 0  # blockquote nesting
        self.skipping = 0

    def _break(self, paragraph: bool = False) -> None:
        if self.lines[-1].strip(" >"):
            self.lines.append("")
        if paragraph and len(self.lines) > 1 and self.lines[-2].strip(" >"):
            self.lines.append("")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.SKIP:
            self.skipping += 1
        elif tag == "br":
            self.lines.append("")
        elif tag in self.BLOCKS:
            self._break(paragraph=tag in self.PARAGRAPHS)
            if tag == "blockquote":
                self.depth += 1
            elif tag == "li":
                self.lines[-1] += "- "
        elif tag == "td" and self.lines[-1].strip():
            self.lines[-1] += " "

    def handle_endtag(self, tag: str) -> None:
        if tag in self.SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif tag in self.BLOCKS:
            if tag == "blockquote":
                self.depth = max(0, self.depth - 1)
            self._break(paragraph=tag in self.PARAGRAPHS)

    def handle_data(self, data: str) -> None:
        if self.skipping:
            return
        data = re.sub(r"\s+", " ", data.replace("\xa0", " "))
        if not data.strip() and not self.lines[-1]:
            return
        if not self.lines[-1] and self.depth:
            self.lines[-1] = "> " * self.depth
            data = data.lstrip()
        self.lines[-1] += data

    def text(self) -> str:
        lines = [line.rstrip() for line in self.lines]
        return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def html_to_text(markup: str) -> str:
    parser = _Text()
    try:
        parser.feed(markup)
        parser.close()
    except Exception:  # HTMLParser is lenient; this is for the truly hostile
        return html.unescape(re.sub(r"<[^>]*>", " ", markup)).strip()
    return parser.text()


# --- decoding -----------------------------------------------------------------------------
# Mail labelled gb2312 or gbk is written with GBK's (or GB18030's) larger repertoire more
# often than not; big5 with the Hong Kong additions. Decode with the superset.
_CHARSET_SUPERSET = {
    "gb2312": "gb18030",
    "gbk": "gb18030",
    "x-gbk": "gb18030",
    "cp936": "gb18030",
    "euc-cn": "gb18030",
    "big5": "big5hkscs",
    "x-big5": "big5hkscs",
    "ks_c_5601-1987": "cp949",
    "iso-8859-1": "cp1252",
    "us-ascii": "utf-8",
    "ascii": "utf-8",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Text of a body part: its declared charset (its superset), else UTF-8, else GB18030
    (the usual undeclared Chinese), else UTF-8 with replacement characters."""
    declared = (charset or "").strip().strip('"').lower()
    tried: list[str] = []
    for candidate in (_CHARSET_SUPERSET.get(declared, declared), "utf-8", "gb18030"):
        if not candidate or candidate in tried:
            continue
        tried.append(candidate)
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError):
            continue
    return data.decode("utf-8", errors="replace")


def _has_surrogates(value: str) -> bool:
    return any("\udc80" <= ch <= "\udcff" for ch in value)


def _raw_header(message: Message, name: str) -> str | None:
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            return str(value)
    return None


def _decode_raw_header(value: str) -> str:
    """A header as sent: raw 8-bit bytes (UTF-8 or GBK, against the RFC) and RFC 2047
    encoded words decoded, folding undone."""
    if _has_surrogates(value):
        value = decode_bytes(value.encode("utf-8", "surrogateescape"), None)
    value = re.sub(r"\r?\n[ \t]+", " ", value)
    try:
        decoded = str(make_header(decode_header(value)))
    except Exception:
        decoded = value
    return decoded.strip()


def header(message: Message, name: str) -> str:
    """One header's text (the first of its name), "" when absent or unreadable."""
    try:
        value = message.get(name)
    except Exception:
        value = None
    if value is not None:
        try:
            text = str(value)
        except Exception:
            text = ""
        if text and not _has_surrogates(text) and "\ufffd" not in text:
            return re.sub(r"\s*\r?\n\s*", " ", text).strip()
    raw = _raw_header(message, name)
    return _decode_raw_header(raw) if raw is not None else ""


def _all_headers(message: Message, name: str) -> list[str]:
    values: list[str] = []
    for key, value in message.raw_items():
        if key.lower() == name.lower():
            values.append(_decode_raw_header(str(value)))
    return values


def addresses(message: Message, name: str) -> list[tuple[str, str]]:
    """(display name, address lower case) of every address in the header(s) ``name``."""
    found: list[tuple[str, str]] = []
    for text in _all_headers(message, name):
        try:
            pairs = email.utils.getaddresses([text])
        except Exception:
            pairs = []
        for display, address in pairs:
            address = address.strip().strip("<>").lower()
            if "@" in address and " " not in address:
                found.append((display.strip().strip('"').strip(), address))
    return found


def _message_ids(value: str) -> list[str]:
    return re.findall(r"<[^<>\s]+>", value)


def _one_message_id(value: str) -> str:
    ids = _message_ids(value)
    if ids:
        return ids[0]
    value = value.strip()
    # a bare id without brackets (seen from some scripts): bracket it
    return f"<{value}>" if value and " " not in value and "@" in value else ""


def read_envelope(raw: bytes) -> Envelope:
    """Message-ID, sender and subject from the headers alone (never raises)."""
    try:
        message = BytesHeaderParser(policy=policy.default).parsebytes(raw[: 2**20])
    except Exception:
        return Envelope("", "", "")
    senders = addresses(message, "From") or addresses(message, "Sender")
    return Envelope(
        message_id=_one_message_id(header(message, "Message-ID")),
        sender=senders[0][1] if senders else "",
        subject=header(message, "Subject"),
    )


# --- parts ------------------------------------------------------------------------------
def _payload(part: Message) -> bytes:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if isinstance(data, bytes):
        return data
    raw = part.get_payload()
    if isinstance(raw, str):
        return raw.encode("utf-8", "surrogateescape")
    return b""


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:
        name = ""
    if name and (_has_surrogates(name) or "=?" in name):
        name = _decode_raw_header(name)
    if not name:
        try:
            name = part.get_param("name", header="content-type") or ""  # type: ignore[assignment]
        except Exception:
            name = ""
        name = _decode_raw_header(str(email.utils.collapse_rfc2231_value(name))) if name else ""
    return name


def _disposition(part: Message) -> str:
    try:
        return (part.get_content_disposition() or "").lower()
    except Exception:
        return ""


def _leaves(message: Message) -> Iterator[Message]:
    """Every part that is not a container; an attached message is one leaf (its own text
    is not the body of this one)."""
    if message.is_multipart():
        payload = message.get_payload()
        if isinstance(payload, list):
            for part in payload:
                if isinstance(part, Message):
                    yield from _leaves(part)
        return
    yield message


@dataclass
class _Body:
    plain: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    attachments: list[IncomingAttachment] = field(default_factory=list)


def _read_parts(message: Message) -> _Body:
    body = _Body()
    for part in _leaves(message):
        content_type = part.get_content_type()
        disposition = _disposition(part)
        name = _filename(part)
        if content_type.startswith("multipart/"):
            # a container whose boundary is missing: its content is the best body there is
            body.plain.append(decode_bytes(_payload(part), part.get_content_charset()))
            continue
        is_text = content_type in ("text/plain", "text/html")
        if is_text and disposition != "attachment" and not (name and disposition != "inline"):
            text = decode_bytes(_payload(part), part.get_content_charset())
            (body.plain if content_type == "text/plain" else body.html).append(text)
            continue
        inner = part.get_payload() if content_type.startswith("message/") else None
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            # an attached message (a forward) or a report's blocks: kept as they were sent
            if content_type == "message/rfc822":
                data = inner[0].as_bytes(policy=policy.default)
                name = name or header(inner[0], "Subject") or "message"
                name = name if name.lower().endswith(".eml") else f"{name}.eml"
            else:
                data = b"\n".join(
                    b.as_bytes(policy=policy.default) for b in inner if isinstance(b, Message)
                )
        else:
            data = _payload(part)
        if not data and not name:
            continue
        body.attachments.append(
            IncomingAttachment(
                name=name or _default_name(content_type),
                content_type=content_type,
                data=data,
                inline=disposition == "inline" or (disposition == "" and bool(part["Content-ID"])),
            )
        )
    return body


def _default_name(content_type: str) -> str:
    return "attachment" + (mimetypes.guess_extension(content_type) or ".bin")


# --- what the message is ------------------------------------------------------------------
_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def guess_language(text: str) -> str:
    """ "zh-hans" when Han characters outnumber Latin words (a Chinese character is about a
    word), else "en"."""
    han = len(_HAN.findall(text))
    return "zh-hans" if han and han >= len(_LATIN_WORD.findall(text)) else "en"


def is_automatic(message: Message) -> bool:
    """RFC 3834 and the headers real responders send: nothing automatic goes back."""
    auto_submitted = header(message, "Auto-Submitted").lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return True
    if header(message, "Precedence").lower() in ("bulk", "list", "junk", "auto_reply"):
        return True
    for name in ("List-Id", "List-Unsubscribe", "X-Autoreply", "X-Autorespond", "X-Autogenerated"):
        if header(message, name):
            return True
    suppress = header(message, "X-Auto-Response-Suppress").lower()
    if any(word in suppress for word in ("all", "oof", "autoreply")):
        return True  # Exchange's out-of-office and auto-replies carry it
    return_path = _raw_header(message, "Return-Path")
    return return_path is not None and return_path.strip() in ("<>", "")


def _report_type(message: Message) -> str:
    if message.get_content_type() != "multipart/report":
        return ""
    try:
        return str(message.get_param("report-type") or "").lower()
    except Exception:
        return ""


def _status_blocks(part: Message) -> list[Message]:
    payload = part.get_payload()
    if isinstance(payload, list):
        return [block for block in payload if isinstance(block, Message)]
    text = payload if isinstance(payload, str) else ""
    parser = HeaderParser(policy=policy.default)
    return [parser.parsestr(chunk) for chunk in re.split(r"\r?\n\s*\r?\n", text) if chunk.strip()]


def _address_field(value: str) -> str:
    # "rfc822; user@example.com"
    address = value.split(";", 1)[-1].strip().strip("<>").lower()
    return address if "@" in address else ""


_BOUNCE_SENDERS = ("mailer-daemon@", "postmaster@")


def read_bounce(message: Message) -> Bounce | None:
    """A delivery report (RFC 3464 multipart/report; report-type=delivery-status), or the
    older kind a mailer daemon sends (X-Failed-Recipients): who failed, and why."""
    failed: list[str] = []
    delayed: list[str] = []
    status = diagnostic = original = ""
    is_report = _report_type(message) == "delivery-status"
    if is_report:
        for part in message.walk():
            content_type = part.get_content_type()
            if content_type in ("message/delivery-status", "message/global-delivery-status"):
                for block in _status_blocks(part):
                    address = _address_field(
                        header(block, "Final-Recipient") or header(block, "Original-Recipient")
                    )
                    if not address:
                        continue
                    action = header(block, "Action").lower()
                    block_status = header(block, "Status")
                    if action == "failed" or block_status.startswith("5"):
                        failed.append(address)
                        status = status or block_status
                        diagnostic = diagnostic or header(block, "Diagnostic-Code")
                    elif action == "delayed" or block_status.startswith("4"):
                        delayed.append(address)
                        status = status or block_status
                        diagnostic = diagnostic or header(block, "Diagnostic-Code")
            elif content_type in ("text/rfc822-headers", "message/rfc822-headers"):
                quoted = HeaderParser(policy=policy.default).parsestr(
                    decode_bytes(_payload(part), part.get_content_charset())
                )
                original = original or _one_message_id(header(quoted, "Message-ID"))
            elif content_type == "message/rfc822":
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                    original = original or _one_message_id(header(inner[0], "Message-ID"))
    failed_header = header(message, "X-Failed-Recipients")
    if failed_header:
        failed += [a for _, a in email.utils.getaddresses([failed_header]) if "@" in a]
    senders = addresses(message, "From")
    from_daemon = bool(senders) and senders[0][1].startswith(_BOUNCE_SENDERS)
    if not (is_report or failed_header or (from_daemon and is_automatic(message))):
        return None
    return Bounce(
        failed=tuple(dict.fromkeys(a.lower() for a in failed)),
        delayed=tuple(dict.fromkeys(delayed)),
        status=status,
        diagnostic=" ".join(diagnostic.split())[:1000],
        original_message_id=original,
    )


def _date(message: Message) -> datetime | None:
    value = header(message, "Date")
    if not value:
        return None
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except Exception:
        return None
    return parsed if parsed.tzinfo is not None else None


def read(raw: bytes) -> Reading:
    """Reads a raw message. Raises ``Unparseable`` only when nothing usable is there."""
    if not raw or not raw.strip():
        raise Unparseable("the message is empty")
    try:
        return _read(raw)
    except Unparseable:
        raise
    except Exception as exc:  # a corner of the stdlib parser on hostile input
        raise Unparseable(f"{type(exc).__name__}: {exc}") from exc


def parse(raw: bytes) -> ParsedEmail:
    return read(raw).email


def _read(raw: bytes) -> Reading:
    message: Any = BytesParser(policy=policy.default).parsebytes(raw)
    assert isinstance(message, EmailMessage)
    senders = addresses(message, "From") or addresses(message, "Sender")
    if not senders:
        senders = addresses(message, "Reply-To")
    sender_name, sender = senders[0] if senders else ("", "")
    body = _read_parts(message)
    full_text = "\n\n".join(t.strip() for t in body.plain if t.strip())
    raw_html = "\n".join(body.html)
    if not full_text and raw_html:
        full_text = html_to_text(raw_html)
    subject = header(message, "Subject")
    if not (message.keys() or full_text or body.attachments):
        raise Unparseable("neither headers nor a body")
    recipients: list[str] = []
    for name in ("To", "Cc", "Delivered-To", "X-Original-To", "Envelope-To"):
        recipients += [address for _, address in addresses(message, name)]
    report = _report_type(message)
    text = new_part(full_text) if full_text else ""
    reading_text = f"{subject}\n{text}"
    parsed = ParsedEmail(
        message_id=_one_message_id(header(message, "Message-ID")),
        sender=sender,
        sender_name=sender_name,
        subject=subject,
        text=text,
        full_text=full_text,
        html=sanitise_html(raw_html) if raw_html.strip() else "",
        in_reply_to=_one_message_id(header(message, "In-Reply-To")),
        references=tuple(_message_ids(" ".join(_all_headers(message, "References")))),
        recipients=tuple(dict.fromkeys(recipients)),
        attachments=tuple(body.attachments),
        automatic=is_automatic(message) or bool(report),
        language=guess_language(reading_text),
        date=_date(message),
        raw=raw,
    )
    return Reading(
        email=parsed,
        bounce=read_bounce(message),
        receipt=report == "disposition-notification",
        defects=tuple(type(d).__name__ for d in _defects(message)),
    )


def _defects(message: Message) -> list[Any]:
    found: list[Any] = []
    for part in message.walk():
        found += list(getattr(part, "defects", []))
    return found
