"""The embedded mode (``manage.py serve`` on SQLite, no Redis) polls mailboxes too: its
periodic thread runs beat's ``poll-mailboxes`` entry in-process, and a customer's email
becomes a ticket with no Celery anywhere."""

from __future__ import annotations

import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

from tests.mail.conftest import SUPPORT_PASSWORD, SUPPORT_USER
from tests.mail.dovecot import Dovecot
from tests.mail.messages import customer_email
from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_embedded_server_polls_a_mailbox_into_a_ticket(
    dovecot: Dovecot, tmp_path: Path
) -> None:
    database = tmp_path / "kefu.sqlite3"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        DJANGO_SETTINGS_MODULE="project.settings",
        KEFU_DATABASE_URL=f"sqlite:///{database}",
        KEFU_MEDIA_ROOT=str(tmp_path / "media"),
        KEFU_MAIL_POLL_SECONDS="1",
        KEFU_SERVER_LOG_LEVEL="warning",
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True)
    setup = (
        "from mail.models import Mailbox\n"
        "Mailbox.objects.create(name='Support', address='support@kefu.test',"
        f" host='{dovecot.host}', port={dovecot.port}, security='none',"
        f" username='{SUPPORT_USER}', password='{SUPPORT_PASSWORD}')\n"
    )
    subprocess.run([*manage, "shell", "-c", setup], cwd=ROOT, env=env, check=True)
    dovecot.append(
        SUPPORT_USER,
        customer_email(sender="li.na@customer.example", subject="Embedded mode works"),
    )
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        server = subprocess.Popen(
            [*manage, "serve", f"127.0.0.1:{_free_port()}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 90
            found: list[tuple[str, str]] = []
            while not found:
                assert server.poll() is None, log_path.read_text()
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.2)  # polling another process's database for the result
                with closing(sqlite3.connect(database)) as db:
                    found = db.execute(
                        "SELECT t.subject, t.channel FROM tickets_ticket t"
                        " JOIN tickets_ticketmessage m ON m.ticket_id = t.id"
                        " JOIN mail_inboundemail i ON i.object_id = t.id"
                        " WHERE i.subject_kind = 'ticket'"
                    ).fetchall()
        finally:
            terminate(server)
    assert found == [("Embedded mode works", "email")]
    assert dovecot.uids(SUPPORT_USER, criteria=["NOT", "KEYWORD", "$Kefu"]) == []
