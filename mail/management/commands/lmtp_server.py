"""``manage.py lmtp_server``: Kefu's LMTP server, for a site whose MTA delivers mail to it
(Postfix: ``mailbox_transport = lmtp:inet:127.0.0.1:2424``); ``--smtp`` speaks plain SMTP
instead. It answers 250 per recipient only after the message is recorded, 451 when it could
not be (docs/email.md, "Receiving by LMTP or a pipe"). No TLS and no authentication: bind
it to the loopback or a private network only."""

from __future__ import annotations

import signal
import threading
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from mail.lmtp import InboundController


class Command(BaseCommand):
    help = "Receive mail from the local MTA over LMTP (or SMTP with --smtp)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=2424)
        parser.add_argument(
            "--smtp", action="store_true", help="speak SMTP instead of LMTP (one reply per message)"
        )
        parser.add_argument(
            "--workers", type=int, default=4, help="messages recorded at the same time"
        )
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="refuse (552) larger messages; default four times KEFU_INBOUND_MAX_BYTES, so "
            "mail over that limit is still taken and quarantined rather than bounced",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        max_bytes = options["max_bytes"] or 4 * settings.KEFU_INBOUND_MAX_BYTES
        controller = InboundController(
            host=options["host"],
            port=options["port"],
            lmtp=not options["smtp"],
            workers=options["workers"],
            max_bytes=max_bytes,
        )
        stop = threading.Event()

        def _stop(signum: int, frame: FrameType | None) -> None:
            stop.set()

        signal.signal(signal.SIGTERM, _stop)
        signal.signal(signal.SIGINT, _stop)
        controller.start()
        protocol = "SMTP" if options["smtp"] else "LMTP"
        self.stdout.write(
            f"Kefu {protocol} server on {options['host']}:{controller.port}", ending="\n"
        )
        self.stdout.flush()
        try:
            stop.wait()
        finally:
            controller.stop()
            self.stdout.write("stopped")
