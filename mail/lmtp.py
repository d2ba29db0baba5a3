"""Mail handed to Kefu by the site's MTA over LMTP (or SMTP), docs/email.md, "Receiving by
LMTP or a pipe". aiosmtpd speaks the protocol; each message goes through ``receive_raw`` in
a worker thread, and the answer is 250 only once its row committed (451 when it could not
be recorded, so the MTA keeps it and tries again)."""

from __future__ import annotations

import asyncio
import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.lmtp import LMTP
from aiosmtpd.smtp import SMTP
from django.db import DEFAULT_DB_ALIAS, close_old_connections, connections
from django.db.backends.base.base import BaseDatabaseWrapper

from .models import InboundEmail
from .services import ReceiveFailed, receive_raw

logger = logging.getLogger(__name__)

# Lines longer than RFC 5321's 1,000 octets are refused by aiosmtpd's default; real mail
# (HTML from some clients) has them, and a refusal is a bounce to the customer.
LINE_LENGTH_LIMIT = 2**16
TEMPFAIL = "451 4.3.0 The message could not be recorded; try again later"


class _KefuLMTP(LMTP):
    line_length_limit = LINE_LENGTH_LIMIT


class _KefuSMTP(SMTP):
    line_length_limit = LINE_LENGTH_LIMIT


class InboundHandler:
    """aiosmtpd's handler: accepts any recipient (the MTA in front decided), records the
    message once for all of them."""

    def __init__(self, *, lmtp: bool = True, workers: int = 4) -> None:
        self.lmtp = lmtp
        self.source = "lmtp" if lmtp else "smtp"
        self.executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="kefu-lmtp")
        # each worker thread keeps its database connection between messages; closed on stop
        self._connections: list[BaseDatabaseWrapper] = []
        self._lock = threading.Lock()

    def _receive(self, raw: bytes, recipients: list[str]) -> InboundEmail:
        close_old_connections()  # a connection the database dropped is not reused
        try:
            return receive_raw(raw, source=self.source, envelope_to=recipients)
        finally:
            close_old_connections()
            wrapper = connections[DEFAULT_DB_ALIAS]
            with self._lock:
                if not any(wrapper is known for known in self._connections):
                    self._connections.append(wrapper)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        raw = envelope.original_content or b""
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        recipients = list(envelope.rcpt_tos)
        loop = asyncio.get_running_loop()
        try:
            row = await loop.run_in_executor(self.executor, self._receive, raw, recipients)
        except ReceiveFailed as exc:
            logger.warning("%s: message not recorded: %s", self.source, exc)
            replies = [TEMPFAIL] * len(recipients)
        except Exception:
            logger.exception("%s: message not recorded", self.source)
            replies = [TEMPFAIL] * len(recipients)
        else:
            replies = [f"250 2.0.0 <{r}> accepted as inbound email {row.pk}" for r in recipients]
        if not self.lmtp:
            return replies[0]
        # LMTP (RFC 2033 §4.2): one reply per accepted recipient, in RCPT order
        return "\r\n".join(replies)

    def close(self) -> None:
        """Waits for the messages being recorded, then closes the workers' connections."""
        self.executor.shutdown(wait=True)
        with self._lock:
            opened, self._connections = self._connections, []
        for wrapper in opened:
            wrapper.inc_thread_sharing()  # the worker thread that opened it has ended
            try:
                wrapper.close()
            finally:
                wrapper.dec_thread_sharing()


class InboundController(Controller):
    """The LMTP (or SMTP) server in a thread of its own, answering with ``InboundHandler``."""

    def __init__(
        self,
        *,
        host: str,
        port: int,
        lmtp: bool = True,
        workers: int = 4,
        max_bytes: int,
        server_hostname: str | None = None,
    ) -> None:
        self.inbound = InboundHandler(lmtp=lmtp, workers=workers)
        super().__init__(
            self.inbound,
            hostname=host,
            port=port,
            server_hostname=server_hostname,
            data_size_limit=max_bytes,
            enable_SMTPUTF8=True,
        )

    def factory(self) -> SMTP:
        server_class = _KefuLMTP if self.inbound.lmtp else _KefuSMTP
        return server_class(self.handler, **self.SMTP_kwargs)

    def stop(self, no_assert: bool = False) -> None:
        super().stop(no_assert=no_assert)
        self.inbound.close()
