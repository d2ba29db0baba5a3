"""A real SMTP server for tests and benchmarks: aiosmtpd on a free loopback port, keeping
every accepted message (parsed) in memory."""

from __future__ import annotations

import email
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import Message
from typing import Any

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Sink:
    """``refuse`` (an SMTP reply such as "451 4.3.0 try later") makes DATA fail."""

    messages: list[Message] = field(default_factory=list)
    accepted_at: list[float] = field(default_factory=list)
    refuse: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    host: str = "127.0.0.1"
    port: int = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.refuse:
            return self.refuse
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.lock:
            self.messages.append(message)
            self.accepted_at.append(time.time())
        return "250 Message accepted for delivery"

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def snapshot(self) -> list[Message]:
        with self.lock:
            return list(self.messages)

    def wait_for(
        self, n: int, *, timeout: float, on_timeout: Callable[[], str] | None = None
    ) -> None:
        """Polls until at least ``n`` messages arrived (no fixed sleep as synchronisation)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= n:
                return
            time.sleep(0.05)
        extra = on_timeout() if on_timeout else ""
        raise AssertionError(f"SMTP sink has {self.count()} of {n} messages\n{extra}")


@contextmanager
def running_sink() -> Iterator[Sink]:
    sink = Sink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


def body_text(message: Message) -> str:
    """The text/plain part, decoded."""
    for part in message.walk():
        if part.get_content_type() == "text/plain":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/plain part")


def body_html(message: Message) -> str:
    for part in message.walk():
        if part.get_content_type() == "text/html":
            payload = part.get_payload(decode=True)
            assert isinstance(payload, bytes)
            return payload.decode(part.get_content_charset() or "utf-8")
    raise AssertionError("no text/html part")
