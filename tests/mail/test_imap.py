"""The IMAP poller (mail/imap.py) against a real Dovecot: what a round takes and how it
marks it, idempotency, the lease, TLS, and the mailbox's failure alerts."""

from __future__ import annotations

import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from mail import imap
from mail.models import InboundEmail
from mail.services import receive_raw
from notifications.models import Notification
from tests.factories import AdministratorFactory, AgentFactory, UserFactory
from tests.mail.conftest import SUPPORT_PASSWORD, SUPPORT_USER, mailbox_on
from tests.mail.dovecot import Dovecot, running_dovecot
from tests.mail.messages import customer_email

INBOX = "INBOX"


def deliver(server: Dovecot, count: int, **fields: Any) -> list[bytes]:
    messages = [
        customer_email(sender=f"customer{i}@example.com", subject=f"Request {i}", **fields)
        for i in range(count)
    ]
    for raw in messages:
        server.append(SUPPORT_USER, raw)
    return messages


def message_ids(messages: list[bytes]) -> list[str]:
    from email import message_from_bytes

    return [str(message_from_bytes(raw)["Message-ID"]) for raw in messages]


def test_a_round_takes_every_waiting_message_once_in_uid_order_and_flags_it(
    db: Any, dovecot: Dovecot, settings: Any
) -> None:
    settings.KEFU_IMAP_BATCH = 2  # three fetch batches
    sent = deliver(dovecot, 5)
    mailbox = mailbox_on(dovecot)

    result = imap.poll_mailbox(mailbox.pk)

    assert (result.taken, result.problem, result.stopped, result.busy) == (5, "", "", False)
    rows = list(InboundEmail.objects.order_by("pk"))
    assert [r.message_id for r in rows] == message_ids(sent)
    assert {(r.source, r.mailbox_id) for r in rows} == {("imap", mailbox.pk)}
    flags = dovecot.flags(SUPPORT_USER)
    assert len(flags) == 5
    assert all({"\\Seen", "$Kefu"} <= f for f in flags.values()), flags
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None
    assert (mailbox.last_error, mailbox.failing_since) == ("", None)

    again = imap.poll_mailbox(mailbox.pk)

    assert again.taken == 0
    assert InboundEmail.objects.count() == 5


def test_a_round_past_its_time_budget_stops_after_the_batch_and_the_next_goes_on(
    db: Any, dovecot: Dovecot, settings: Any
) -> None:
    settings.KEFU_IMAP_BATCH = 2
    settings.KEFU_IMAP_ROUND_SECONDS = 0  # the budget is spent after the first batch
    deliver(dovecot, 5)
    mailbox = mailbox_on(dovecot)

    rounds = [imap.poll_mailbox(mailbox.pk) for _ in range(3)]

    assert [(r.taken, r.stopped) for r in rounds] == [(2, "budget"), (2, "budget"), (1, "")]
    assert InboundEmail.objects.count() == 5
    mailbox.refresh_from_db()
    assert mailbox.last_polled_at is not None  # the round that finished the folder


def test_a_message_read_in_a_mail_client_first_is_still_taken(db: Any, dovecot: Dovecot) -> None:
    dovecot.append(SUPPORT_USER, customer_email(), flags=["\\Seen"])
    mailbox = mailbox_on(dovecot)

    assert imap.poll_mailbox(mailbox.pk).taken == 1
    assert InboundEmail.objects.count() == 1


def test_with_a_done_folder_taken_mail_moves_there(db: Any, dovecot: Dovecot) -> None:
    deliver(dovecot, 3)
    mailbox = mailbox_on(dovecot, done_folder="Kefu-done")

    assert imap.poll_mailbox(mailbox.pk).taken == 3

    assert dovecot.uids(SUPPORT_USER, INBOX) == []
    assert len(dovecot.uids(SUPPORT_USER, "Kefu-done")) == 3
    assert InboundEmail.objects.count() == 3


@pytest.mark.parametrize(
    "capability",
    ["IMAP4rev1 LITERAL+ SASL-IR IDLE UIDPLUS", "IMAP4rev1 LITERAL+ SASL-IR IDLE"],
    ids=["uidplus", "plain-expunge"],
)
def test_a_server_without_move_gets_copy_delete_and_expunge(db: Any, capability: str) -> None:
    users = {SUPPORT_USER: SUPPORT_PASSWORD}
    with running_dovecot(users, extra_config=f"imap_capability = {capability}\n") as server:
        with server.session(SUPPORT_USER) as client:
            assert not client.has_capability("MOVE")
        deliver(server, 3)
        mailbox = mailbox_on(server, done_folder="Done")

        assert imap.poll_mailbox(mailbox.pk).taken == 3

        assert server.uids(SUPPORT_USER, INBOX) == []
        assert len(server.uids(SUPPORT_USER, "Done")) == 3


def test_a_message_recorded_before_a_crash_is_marked_not_recorded_twice(
    db: Any, dovecot: Dovecot
) -> None:
    """A poller that died between the commit and the flag: the next round hands the
    message over again, receive_raw knows its Message-ID, and the round marks it."""
    raw = customer_email()
    dovecot.append(SUPPORT_USER, raw)
    mailbox = mailbox_on(dovecot)
    receive_raw(raw, source="imap", mailbox=mailbox)  # the crashed round's commit

    result = imap.poll_mailbox(mailbox.pk)

    assert result.taken == 1
    assert InboundEmail.objects.count() == 1
    assert all("$Kefu" in f for f in dovecot.flags(SUPPORT_USER).values())


def test_a_message_that_cannot_be_recorded_stays_unmarked_and_ends_the_round(
    db: Any, dovecot: Dovecot, settings: Any, tmp_path: Path
) -> None:
    """receive_raw raises ReceiveFailed (here: the storage cannot take the raw message):
    the message is left as it was and the round stops; the next round takes it all."""
    deliver(dovecot, 3)
    mailbox = mailbox_on(dovecot)
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    settings.MEDIA_ROOT = str(blocker / "media")  # a directory under a file cannot exist

    result = imap.poll_mailbox(mailbox.pk)

    assert (result.stopped, result.taken, result.problem) == ("receive_failed", 0, "")
    assert InboundEmail.objects.count() == 0
    assert len(dovecot.uids(SUPPORT_USER, criteria=["UNSEEN", "NOT", "KEYWORD", "$Kefu"])) == 3

    settings.MEDIA_ROOT = str(tmp_path / "media")

    assert imap.poll_mailbox(mailbox.pk).taken == 3
    assert InboundEmail.objects.count() == 3


def test_a_mailbox_another_poller_holds_is_left_to_it(db: Any, dovecot: Dovecot) -> None:
    deliver(dovecot, 2)
    mailbox = mailbox_on(dovecot)

    with imap.mailbox_lease(mailbox.pk) as renew:
        assert renew is not None
        result = imap.poll_mailbox(mailbox.pk)

    assert (result.busy, result.taken) == (True, 0)
    assert InboundEmail.objects.count() == 0
    assert imap.poll_mailbox(mailbox.pk).taken == 2  # the lease was given back


def test_two_pollers_at_once_take_each_message_exactly_once(
    transactional_db: Any, dovecot: Dovecot
) -> None:
    sent = deliver(dovecot, 30)
    mailbox = mailbox_on(dovecot)
    start = threading.Barrier(2)
    results: list[imap.PollResult] = []

    def poll() -> None:
        try:
            start.wait(timeout=10)
            results.append(imap.poll_mailbox(mailbox.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=poll) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert len(results) == 2
    assert sum(r.taken for r in results) == 30
    assert sorted(InboundEmail.objects.values_list("message_id", flat=True)) == sorted(
        message_ids(sent)
    )
    assert len(dovecot.uids(SUPPORT_USER, criteria=["NOT", "KEYWORD", "$Kefu"])) == 0


def test_mail_older_than_the_mailbox_is_left_alone(db: Any, dovecot: Dovecot) -> None:
    old = datetime.now(UTC) - timedelta(days=10)
    dovecot.append(SUPPORT_USER, customer_email(subject="Old"), msg_time=old)
    dovecot.append(SUPPORT_USER, customer_email(subject="New"))
    mailbox = mailbox_on(dovecot)

    assert imap.poll_mailbox(mailbox.pk).taken == 1

    assert list(InboundEmail.objects.values_list("subject", flat=True)) == ["New"]


def test_a_disabled_mailbox_is_not_read(db: Any, dovecot: Dovecot) -> None:
    deliver(dovecot, 1)
    mailbox = mailbox_on(dovecot, enabled=False)

    assert imap.poll_mailbox(mailbox.pk).skipped
    assert InboundEmail.objects.count() == 0


def test_the_beat_task_polls_every_enabled_mailbox(
    db: Any, dovecot: Dovecot, settings: Any
) -> None:
    from mail import tasks
    from project.celery import app

    deliver(dovecot, 2)
    dovecot.append("other", customer_email(subject="Other's"))
    enabled = mailbox_on(dovecot)
    mailbox_on(dovecot, name="Off", username="other", password="other-pass", enabled=False)

    app.conf.task_always_eager = True
    try:
        polled = tasks.poll_mailboxes.apply().get()
    finally:
        app.conf.task_always_eager = settings.CELERY_TASK_ALWAYS_EAGER

    assert polled == 1
    assert set(InboundEmail.objects.values_list("mailbox_id", flat=True)) == {enabled.pk}
    assert InboundEmail.objects.count() == 2


# --- TLS ------------------------------------------------------------------------------
def test_imaps_and_starttls_verify_the_server_against_the_configured_ca(
    db: Any, dovecot: Dovecot, settings: Any
) -> None:
    settings.KEFU_IMAP_CA_FILE = str(dovecot.ca_file)
    deliver(dovecot, 1)
    imaps = mailbox_on(dovecot, security="tls", port=dovecot.tls_port)
    starttls = mailbox_on(dovecot, name="Support (STARTTLS)", security="starttls")

    first = imap.poll_mailbox(imaps.pk)
    second = imap.poll_mailbox(starttls.pk)

    assert (first.taken, first.problem) == (1, "")
    assert (second.taken, second.problem) == (0, "")
    assert "TLS" in dovecot.log()  # the logins were over TLS


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_an_untrusted_certificate_is_a_tls_failure_and_nothing_is_read(
    db: Any, dovecot: Dovecot, settings: Any, security: str
) -> None:
    settings.KEFU_IMAP_CA_FILE = ""  # the system's CAs only: they do not know the test's
    deliver(dovecot, 1)
    port = dovecot.tls_port if security == "tls" else dovecot.port
    mailbox = mailbox_on(dovecot, security=security, port=port)

    result = imap.poll_mailbox(mailbox.pk)

    assert (result.problem, result.taken) == ("tls", 0)
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("the TLS connection failed: ")
    assert "certificate verify failed" in mailbox.last_error
    assert InboundEmail.objects.count() == 0
    assert dovecot.uids(SUPPORT_USER, criteria="UNSEEN") != []


# --- failures and alerts ------------------------------------------------------------
def test_a_wrong_password_alerts_the_administrators_once_and_recovery_clears_it(
    db: Any, dovecot: Dovecot
) -> None:
    admin: Any = AdministratorFactory(username="admin")
    root: Any = UserFactory(username="root", is_superuser=True)
    AgentFactory(username="agent")
    UserFactory(username="former", is_superuser=True, is_active=False)
    mailbox = mailbox_on(dovecot, password="wrong")

    first = imap.poll_mailbox(mailbox.pk)

    assert first.problem == "authentication"
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("the server refused the user name or password: ")
    assert "AUTHENTICATIONFAILED" in mailbox.last_error
    assert mailbox.failing_since is not None
    assert mailbox.last_error_at == mailbox.failing_since
    alerts = Notification.objects.filter(kind="mailbox_failing")
    assert sorted(alerts.values_list("recipient__username", flat=True)) == ["admin", "root"]
    alert = alerts.get(recipient=admin)
    assert (alert.subject_kind, alert.object_id) == ("mailbox", mailbox.pk)
    assert alert.title == (
        "Mailbox Support cannot be read: the server refused the user name or password"
        " ([AUTHENTICATIONFAILED] Authentication failed.)"
    )
    with translation.override("zh-hans"):
        assert alert.title.startswith("邮箱 Support 无法读取")
    episode_began = mailbox.failing_since

    second = imap.poll_mailbox(mailbox.pk)

    assert second.problem == "authentication"
    mailbox.refresh_from_db()
    assert mailbox.failing_since == episode_began
    assert mailbox.last_error_at is not None and mailbox.last_error_at > episode_began
    assert Notification.objects.filter(kind="mailbox_failing").count() == 2  # not again

    mailbox.password = SUPPORT_PASSWORD
    mailbox.save(update_fields=["password"])
    deliver(dovecot, 1)

    third = imap.poll_mailbox(mailbox.pk)

    assert (third.problem, third.taken) == ("", 1)
    mailbox.refresh_from_db()
    assert (mailbox.failing_since, mailbox.last_error) == (None, "")
    recovered = Notification.objects.filter(kind="mailbox_recovered")
    assert sorted(recovered.values_list("recipient__username", flat=True)) == ["admin", "root"]
    assert recovered.get(recipient=root).title == "Mailbox Support is read again"
    imap.poll_mailbox(mailbox.pk)
    assert Notification.objects.filter(kind="mailbox_recovered").count() == 2


def test_a_refused_connection_is_a_connection_failure(db: Any) -> None:
    from tests.smtp_sink import free_port

    mailbox = mailbox_on_nothing(port=free_port())

    result = imap.poll_mailbox(mailbox.pk)

    assert result.problem == "connection"
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("the server cannot be reached: ")


def test_a_server_that_never_greets_times_out(db: Any, settings: Any) -> None:
    settings.KEFU_IMAP_TIMEOUT = 0.5
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)  # accepts the connection, never says a word
        mailbox = mailbox_on_nothing(port=silent.getsockname()[1])

        result = imap.poll_mailbox(mailbox.pk)

    assert result.problem == "connection"
    mailbox.refresh_from_db()
    assert "timed out" in mailbox.last_error


def test_a_missing_folder_is_a_folder_failure(db: Any, dovecot: Dovecot) -> None:
    mailbox = mailbox_on(dovecot, folder="Nowhere")

    result = imap.poll_mailbox(mailbox.pk)

    assert result.problem == "folder"
    mailbox.refresh_from_db()
    assert mailbox.last_error.startswith("the folder cannot be opened: Nowhere: ")


def mailbox_on_nothing(*, port: int) -> Any:
    from mail.models import Mailbox

    return Mailbox.objects.create(
        name="Nowhere",
        address="nowhere@kefu.test",
        host="127.0.0.1",
        port=port,
        security="none",
        username="x",
        password="y",
    )


def test_uid_sets_fold_runs() -> None:
    assert imap.uid_set([5, 1, 2, 3, 8, 10, 11, 12, 3]) == "1:3,5,8,10:12"
    assert imap.uid_set([7]) == "7"


# --- lanes: several pollers share a busy mailbox ------------------------------------------
def test_a_conversation_is_keyed_by_its_root() -> None:
    reply = (
        b"Message-ID: <r@c>\r\nIn-Reply-To: <ack@kefu>\r\nReferences: <Root@c>\r\n <ack@kefu>\r\n"
    )
    assert imap.conversation_key(reply) == b"<root@c>"
    assert imap.conversation_key(b"Message-ID: <r@c>\r\nIn-Reply-To: <ack@kefu>\r\n") == (
        b"<ack@kefu>"
    )
    assert imap.conversation_key(b"Message-ID: <Own@c>\r\n") == b"<own@c>"
    assert imap.conversation_key(b"Subject: none\r\n") == b""
    assert imap.lane_of(b"Subject: none\r\n", 4) == 0
    lanes = {imap.lane_of(f"Message-ID: <m{i}@c>\r\n".encode(), 2) for i in range(20)}
    assert lanes == {0, 1}


def test_lanes_share_a_mailbox_and_keep_each_conversation_in_order(
    transactional_db: Any, dovecot: Dovecot
) -> None:
    originals = [f"<origin{i}@customer.example>" for i in range(15)]
    for i, root in enumerate(originals):
        dovecot.append(SUPPORT_USER, customer_email(sender=f"c{i}@example.com", message_id=root))
    replies = {}
    for i, root in enumerate(originals):
        reply_id = f"<reply{i}@customer.example>"
        replies[root] = reply_id
        dovecot.append(
            SUPPORT_USER,
            customer_email(
                sender=f"c{i}@example.com",
                message_id=reply_id,
                in_reply_to="<ack@kefu.test>",
                headers={"References": f"{root} <ack@kefu.test>"},
            ),
        )
    mailbox = mailbox_on(dovecot)
    start = threading.Barrier(2)
    results: dict[int, imap.PollResult] = {}

    def poll(lane: int) -> None:
        try:
            start.wait(timeout=10)
            results[lane] = imap.poll_mailbox(mailbox.pk, lane, 2)
        finally:
            connection.close()

    threads = [threading.Thread(target=poll, args=(lane,)) for lane in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    expected = {
        lane: 2
        * sum(1 for root in originals if imap.lane_of(f"Message-ID: {root}".encode(), 2) == lane)
        for lane in (0, 1)
    }
    assert {lane: r.taken for lane, r in results.items()} == expected
    assert 0 < expected[0] < 30
    rows = dict(InboundEmail.objects.values_list("message_id", "pk"))
    assert len(rows) == 30
    for root, reply_id in replies.items():
        assert rows[root] < rows[reply_id]  # a reply is taken after what it answers
    assert dovecot.uids(SUPPORT_USER, criteria=["NOT", "KEYWORD", "$Kefu"]) == []
