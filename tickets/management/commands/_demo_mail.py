# ruff: noqa: RUF001  (Chinese text uses full-width punctuation)
"""The demo's email conversation (docs/email.md): real messages fed through the same
pipeline a mailbox or the LMTP receiver uses (``mail.services.receive_raw``), so the demo
shows tickets opened by email, a reply threaded onto its ticket, an out-of-office answer that
changed nothing, a bounce that marked an address, a message waiting in the quarantine, a
configured mailbox and a blocked sender."""

from __future__ import annotations

from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from django.conf import settings
from django.utils import timezone

from mail import services as mail_services
from mail.models import AddressState, ImapSecurity, Mailbox
from outbox.models import OutboxMessage

DOMAIN = "demo.kefu.localhost"


def _message(
    *,
    sender: str,
    subject: str,
    text: str,
    in_reply_to: str = "",
    headers: dict[str, str] | None = None,
    attachment: tuple[str, str, bytes] | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = settings.KEFU_SUPPORT_ADDRESS
    message["Subject"] = subject
    message["Date"] = format_datetime(timezone.now())
    message["Message-ID"] = make_msgid(domain=DOMAIN)
    if in_reply_to:
        message["In-Reply-To"] = in_reply_to
        message["References"] = in_reply_to
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if attachment:
        name, subtype, data = attachment
        maintype, _, sub = subtype.partition("/")
        message.add_attachment(data, maintype=maintype, subtype=sub, filename=name)
    return message.as_bytes()


def load_mail_demo() -> dict[str, int]:
    """Feeds the demo messages in; returns how many of each outcome."""
    Mailbox.objects.get_or_create(
        name="客服邮箱 / Support inbox",
        defaults={
            "address": settings.KEFU_SUPPORT_ADDRESS,
            "host": "imap.example.com",
            "port": 993,
            "security": ImapSecurity.TLS,
            "username": "support",
            "password": "demo-password-not-real",
            # a demo mailbox on a server that does not exist: off, so nothing polls it
            "enabled": False,
        },
    )
    AddressState.objects.get_or_create(
        address="offers@spam.example.net",
        defaults={"blocked": True, "note": "Unsolicited offers / 垃圾推销邮件"},
    )
    feed = [
        _message(
            sender="王磊 <wang.lei@huanan-logistics.example.cn>",
            subject="仓库扫码枪无法连接系统",
            text=(
                "您好，\n\n今天早上开始，二号仓库的扫码枪都连不上系统，提示“网络超时”。"
                "已经重启过设备，问题依旧。附件是设备日志。\n\n王磊\n华南物流 仓储部"
            ),
            attachment=("scanner.log", "text/plain", b"08:02 connect timeout 10.2.0.14\n"),
        ),
        _message(
            sender="Grace Miller <grace.miller@harbor-retail.example.com>",
            subject="Order confirmation emails are delayed",
            text=(
                "Hi,\n\nSince yesterday our customers get their order confirmations about an "
                "hour late. Could you check the sending queue?\n\nThanks,\nGrace"
            ),
        ),
        _message(
            sender="Offers <offers@spam.example.net>",
            subject="Cheap servers!!!",
            text="Buy now.",
        ),
    ]
    counts: dict[str, int] = {}
    for raw in feed:
        row = mail_services.receive_raw(raw, source="stdin")
        counts[row.status] = counts.get(row.status, 0) + 1
    # Grace's out-of-office answers the acknowledgement she got: it threads, changes nothing
    ack = OutboxMessage.objects.filter(
        subject_kind="ticket", to="grace.miller@harbor-retail.example.com"
    ).first()
    if ack is not None:
        raw = _message(
            sender="Grace Miller <grace.miller@harbor-retail.example.com>",
            subject=f"Automatic reply: {ack.subject}",
            text="I am out of the office until Monday.",
            in_reply_to=ack.message_id,
            headers={"Auto-Submitted": "auto-replied"},
        )
        row = mail_services.receive_raw(raw, source="stdin")
        counts[row.status] = counts.get(row.status, 0) + 1
    # the customer answers Wang Lei's acknowledgement: threads onto the same ticket
    ack = OutboxMessage.objects.filter(
        subject_kind="ticket", to="wang.lei@huanan-logistics.example.cn"
    ).first()
    if ack is not None:
        raw = _message(
            sender="王磊 <wang.lei@huanan-logistics.example.cn>",
            subject=f"回复：{ack.subject}",
            text="补充一下：一号仓库的扫码枪是正常的，只有二号仓库有问题。",
            in_reply_to=ack.message_id,
        )
        row = mail_services.receive_raw(raw, source="stdin")
        counts[row.status] = counts.get(row.status, 0) + 1
    # a message whose MIME is broken beyond use waits in the quarantine
    broken = (
        b"From: \r\nSubject: =?utf-8?B?broken\r\nMessage-ID: <broken-1@" + DOMAIN.encode()
        + b">\r\nContent-Type: multipart/mixed\r\n\r\n--\r\n"
    )  # fmt: skip
    row = mail_services.receive_raw(broken, source="stdin")
    counts[row.status] = counts.get(row.status, 0) + 1
    return counts
