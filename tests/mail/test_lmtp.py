"""Mail handed in by an MTA: the LMTP/SMTP server (a real smtplib client talking to it, in
this process and as ``manage.py lmtp_server``) and ``manage.py receive_email`` on a pipe."""

from __future__ import annotations

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from django.db import connection

from customers.models import Contact
from mail import inbound
from mail.lmtp import InboundController
from mail.models import AddressState, InboundEmail, InboundStatus, Mailbox
from tests.processes import terminate
from tests.smtp_sink import free_port

from .conftest import corpus
from .probe.handlers import NoteHandler

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def notes(handlers: dict[str, Any]) -> NoteHandler:
    handler = NoteHandler()
    inbound.register_handler("ticket", handler)
    return handler


@pytest.fixture
def lmtp_server() -> Iterator[InboundController]:
    controller = InboundController(host="127.0.0.1", port=free_port(), max_bytes=100 * 2**20)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()


def lmtp_client(controller: InboundController) -> smtplib.LMTP:
    client = smtplib.LMTP(controller.hostname, controller.port, timeout=120)
    client.ehlo()  # smtplib's LMTP greets with LHLO
    return client


def deliver(client: smtplib.SMTP, raw: bytes, recipients: list[str]) -> list[tuple[int, bytes]]:
    """One LMTP transaction by hand: the replies to DATA, one per recipient. The message
    goes with CRLF line ends, as an MTA sends it (smtplib leaves bytes as they are)."""
    raw = raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    client.mail("alice@example.com")
    for recipient in recipients:
        code, _ = client.rcpt(recipient)
        assert code == 250
    replies = [client.data(raw)]
    replies += [client.getreply() for _ in recipients[1:]]
    return replies


def test_lmtp_answers_each_recipient_after_the_message_is_recorded(
    notes: NoteHandler, lmtp_server: InboundController
) -> None:
    raw = corpus("gmail_reply_en.eml")
    client = lmtp_client(lmtp_server)
    try:
        replies = deliver(client, raw, ["support@kefu.example", "help@kefu.example"])
        again = deliver(client, raw, ["support@kefu.example"])
    finally:
        client.quit()

    row = InboundEmail.objects.get()
    assert [code for code, _ in replies] == [250, 250]
    assert b"<support@kefu.example>" in replies[0][1]
    assert b"<help@kefu.example>" in replies[1][1]
    assert f"inbound email {row.pk}".encode() in replies[0][1]
    assert again[0][0] == 250  # a retried session: accepted, not handled twice
    assert (row.status, row.source) == (InboundStatus.PROCESSED, "lmtp")
    assert "help@kefu.example" in row.recipients
    assert len(notes.seen) == 1
    assert Contact.objects.filter(email="alice.wang@gmail.com").exists()


def test_lmtp_answers_451_when_the_message_cannot_be_recorded(
    notes: NoteHandler, lmtp_server: InboundController, settings: Any, tmp_path: Path
) -> None:
    healthy = settings.MEDIA_ROOT
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("the storage is down")
    settings.MEDIA_ROOT = str(blocker)
    raw = corpus("qq_mail_reply_zh.eml")
    client = lmtp_client(lmtp_server)
    try:
        refused = deliver(client, raw, ["a@kefu.example", "b@kefu.example"])
        assert not InboundEmail.objects.exists()
        settings.MEDIA_ROOT = healthy
        accepted = deliver(client, raw, ["a@kefu.example", "b@kefu.example"])
    finally:
        client.quit()

    assert [code for code, _ in refused] == [451, 451]
    assert [code for code, _ in accepted] == [250, 250]
    assert InboundEmail.objects.get().status == InboundStatus.PROCESSED


def test_a_bounce_over_lmtp_is_accepted_and_marks_the_address(
    notes: NoteHandler, lmtp_server: InboundController
) -> None:
    client = lmtp_client(lmtp_server)
    try:
        replies = deliver(client, corpus("dsn_bounce.eml"), ["support@kefu.example"])
    finally:
        client.quit()

    assert replies[0][0] == 250
    assert InboundEmail.objects.get().reason == "bounce"
    assert AddressState.objects.get(address="no.such.user@example.com").bouncing_since
    assert notes.seen == []


def test_a_30_mb_message_over_lmtp_is_accepted_and_quarantined(
    notes: NoteHandler, lmtp_server: InboundController, settings: Any
) -> None:
    msg = EmailMessage()
    msg["From"] = "ivan@example.com"
    msg["To"] = "support@kefu.example"
    msg["Subject"] = "The full disk image"
    msg["Message-ID"] = "<big-lmtp@example.com>"
    msg.set_content("attached")
    msg.add_attachment(b"\x5a" * (30 * 2**20), maintype="application", subtype="octet-stream")
    raw = msg.as_bytes()
    client = lmtp_client(lmtp_server)
    try:
        replies = deliver(client, raw, ["support@kefu.example"])
    finally:
        client.quit()

    row = InboundEmail.objects.get()
    assert replies[0][0] == 250
    assert (row.status, row.reason, row.sender) == (
        InboundStatus.QUARANTINED,
        "too_large",
        "ivan@example.com",
    )
    with row.raw.open("rb") as stored:
        assert stored.read().replace(b"\r\n", b"\n") == raw.replace(b"\r\n", b"\n")


def test_a_message_over_the_server_limit_is_refused_552(notes: NoteHandler) -> None:
    controller = InboundController(host="127.0.0.1", port=free_port(), max_bytes=10_000)
    controller.start()
    try:
        client = lmtp_client(controller)
        try:
            client.mail("alice@example.com")
            client.rcpt("support@kefu.example")
            code, _ = client.data(b"Subject: big\r\n\r\n" + b"x" * 20_000)
        finally:
            client.close()
    finally:
        controller.stop()

    assert code == 552
    assert not InboundEmail.objects.exists()


def test_smtp_mode_answers_once(notes: NoteHandler) -> None:
    controller = InboundController(host="127.0.0.1", port=free_port(), lmtp=False, max_bytes=2**20)
    controller.start()
    try:
        with smtplib.SMTP(controller.hostname, controller.port, timeout=60) as client:
            refused = client.sendmail(
                "bob@example.com",
                ["support@kefu.example", "help@kefu.example"],
                corpus("outlook_reply_en.eml"),
            )
    finally:
        controller.stop()

    assert refused == {}
    row = InboundEmail.objects.get()
    assert (row.status, row.source) == (InboundStatus.PROCESSED, "smtp")


# --- the commands, as the MTA runs them -------------------------------------------------
def command_env(media: Path, database_url: str | None = None) -> dict[str, str]:
    db = connection.settings_dict
    url = database_url or (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.mail.subprocess_settings",
        "KEFU_DATABASE_URL": url,
        "KEFU_MEDIA_ROOT": str(media),
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return env


def receive_email(
    raw: bytes, *args: str, env: dict[str, str]
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "manage.py", "receive_email", *args],
        input=raw,
        cwd=ROOT,
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def notes_mailbox() -> Mailbox:
    """The address whose mail the subprocesses' note handler takes (tests/mail/probe)."""
    return Mailbox.objects.create(
        name="Notes",
        address="notes@kefu.example",
        host="imap.invalid",
        username="notes",
        opens="note",
        enabled=False,
    )


def test_receive_email_from_a_pipe(notes_mailbox: Mailbox, media: Path) -> None:
    done = receive_email(
        corpus("foxmail_reply_zh.eml"),
        "--recipient",
        "notes+T-2026-000126@kefu.example",
        env=command_env(media),
    )

    row = InboundEmail.objects.get()
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip() == f"inbound email {row.pk}: processed"
    assert (row.source, row.mailbox_id, row.status) == ("stdin", notes_mailbox.pk, "processed")
    assert Contact.objects.get(email="zhangsan@qq.com").language == "zh-hans"


def test_receive_email_exits_0_for_what_it_keeps_from_processes(
    notes_mailbox: Mailbox, media: Path
) -> None:
    done = receive_email(
        corpus("dsn_bounce.eml"), "--mailbox", "notes@kefu.example", env=command_env(media)
    )

    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip().endswith(": ignored bounce")


def test_receive_email_exits_75_when_the_database_is_down(media: Path) -> None:
    down = f"postgres://postgres@127.0.0.1:{free_port()}/kefu_nowhere"

    done = receive_email(corpus("gmail_reply_en.eml"), env=command_env(media, down))

    assert done.returncode == 75, done.stderr.decode()
    assert b"temporary failure" in done.stderr
    assert not InboundEmail.objects.exists()
    assert not list(media.rglob("*.eml"))  # no stray raw file either


def test_receive_email_exits_64_for_an_unknown_mailbox(media: Path) -> None:
    done = receive_email(
        corpus("gmail_reply_en.eml"), "--mailbox", "nobody@kefu.example", env=command_env(media)
    )

    assert done.returncode == 64
    assert not InboundEmail.objects.exists()


def _wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            out = process.stdout.read().decode() if process.stdout else ""
            raise AssertionError(f"lmtp_server exited: {out}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.05)  # polling a starting server
    raise AssertionError("lmtp_server did not listen")


def test_the_lmtp_server_command(notes_mailbox: Mailbox, media: Path) -> None:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "manage.py", "lmtp_server", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=command_env(media),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_for_port(port, process)
        client = smtplib.LMTP("127.0.0.1", port, timeout=60)
        client.ehlo()
        try:
            replies = deliver(client, corpus("apple_mail_reply.eml"), ["notes@kefu.example"])
        finally:
            client.quit()
        process.send_signal(signal.SIGTERM)
        output, _ = process.communicate(timeout=30)
    finally:
        terminate(process)

    assert replies[0][0] == 250
    assert process.returncode == 0
    assert f"Kefu LMTP server on 127.0.0.1:{port}" in output.decode()
    row = InboundEmail.objects.get()
    assert (row.status, row.source, row.mailbox_id) == ("processed", "lmtp", notes_mailbox.pk)
    assert Contact.objects.filter(email="carol@icloud.com").exists()
