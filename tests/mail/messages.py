"""Customer emails as a mail client would write them, for the IMAP tests and benchmark.
``headers`` may give References (else In-Reply-To is the thread)."""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid


def customer_email(
    *,
    sender: str = "wang.fang@example.com",
    to: str = "support@kefu.test",
    subject: str = "My printer is on fire",
    body: str = "Hello, the printer in room 5 is smoking.",
    message_id: str | None = None,
    in_reply_to: str = "",
    headers: dict[str, str] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id or make_msgid(domain="customer.example")
    extra = dict(headers or {})
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = extra.pop("References", in_reply_to)
    for name, value in extra.items():
        message[name] = value
    message.set_content(body)
    return message.as_bytes(policy=SMTP)
