"""``manage.py receive_email``: one message from standard input, for an MTA's pipe (Postfix
``pipe``, an alias ``"|…/manage.py receive_email"``, procmail, fetchmail's ``--mda``).

Exit codes per sysexits.h: 0 when the message is recorded (processed, ignored or
quarantined: it is Kefu's now), 75 (EX_TEMPFAIL) when it could not be recorded, so the MTA
keeps it and tries again, 64 (EX_USAGE) for a mailbox that does not exist."""

from __future__ import annotations

import logging
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import DatabaseError

from mail.models import Mailbox
from mail.services import ReceiveFailed, receive_raw

logger = logging.getLogger(__name__)

EX_OK = 0
EX_USAGE = 64
EX_TEMPFAIL = 75


class Command(BaseCommand):
    help = "Receive one email message from standard input (for an MTA's pipe)."
    # started once per message: no system checks (and none that could need the database)
    requires_system_checks: list[str] = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--recipient",
            action="append",
            default=[],
            help="an envelope recipient (Postfix: ${recipient}); may be repeated",
        )
        parser.add_argument(
            "--mailbox", help="the mailbox (id or address) whose process takes the message"
        )
        parser.add_argument("--source", default="stdin", help="recorded as the message's source")

    def handle(self, *args: Any, **options: Any) -> None:
        raw = sys.stdin.buffer.read()
        try:
            mailbox = _mailbox(options["mailbox"])
        except Mailbox.DoesNotExist:
            self.stderr.write(f"no mailbox {options['mailbox']!r}")
            raise SystemExit(EX_USAGE) from None
        except DatabaseError as exc:
            self.stderr.write(f"temporary failure: database: {exc}")
            raise SystemExit(EX_TEMPFAIL) from exc
        try:
            row = receive_raw(
                raw, source=options["source"], mailbox=mailbox, envelope_to=options["recipient"]
            )
        except ReceiveFailed as exc:
            self.stderr.write(f"temporary failure: {exc}")
            raise SystemExit(EX_TEMPFAIL) from exc
        except Exception as exc:  # a bug must not lose the mail: the MTA keeps it
            logger.exception("receive_email failed")
            self.stderr.write(f"temporary failure: {type(exc).__name__}: {exc}")
            raise SystemExit(EX_TEMPFAIL) from exc
        self.stdout.write(f"inbound email {row.pk}: {row.status} {row.reason}".rstrip())


def _mailbox(wanted: str | None) -> Mailbox | None:
    if not wanted:
        return None
    found = (
        Mailbox.objects.filter(pk=int(wanted))
        if wanted.isdigit()
        else Mailbox.objects.filter(address__iexact=wanted).order_by("id")
    ).first()
    if found is None:
        raise Mailbox.DoesNotExist(wanted)
    return found
