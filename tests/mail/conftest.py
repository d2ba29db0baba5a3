"""Fixtures of the mail tests: the corpus, a private media folder, real handlers, a real
Dovecot (tests/mail/dovecot.py) and a Kefu mailbox that reads it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mail import inbound
from tests.mail.dovecot import Dovecot, running_dovecot

from .probe.handlers import FailingHandler, NoteHandler

CORPUS = Path(__file__).parent / "corpus"
# The mailbox Kefu reads and its password; a second user for tests that need two.
SUPPORT_USER = "support"
SUPPORT_PASSWORD = "s3cret-imap"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


@pytest.fixture(autouse=True)
def media(settings: Any, tmp_path: Path) -> Path:
    """Raw messages and attachments go to a folder of this test's own."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    return root


@pytest.fixture
def handlers() -> Iterator[dict[str, Any]]:
    """The registry of mail handlers as the test leaves it is forgotten afterwards."""
    saved = dict(inbound._handlers)
    try:
        yield inbound._handlers
    finally:
        inbound._handlers.clear()
        inbound._handlers.update(saved)


@pytest.fixture
def notes(handlers: dict[str, Any]) -> NoteHandler:
    """A note handler takes the default kind ("ticket") and "note"."""
    handler = NoteHandler()
    inbound.register_handler("ticket", handler)
    inbound.register_handler("note", handler)
    return handler


@pytest.fixture
def failing(handlers: dict[str, Any]) -> FailingHandler:
    handler = FailingHandler()
    inbound.register_handler("ticket", handler)
    return handler


@pytest.fixture
def admin(db: Any) -> Any:
    from tests.factories import AdministratorFactory

    return AdministratorFactory(username="mailadmin")


@pytest.fixture
def agent(db: Any) -> Any:
    from tests.factories import AgentFactory

    return AgentFactory(username="mailagent")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    with running_dovecot({SUPPORT_USER: SUPPORT_PASSWORD, "other": "other-pass"}) as server:
        yield server


def mailbox_on(server: Dovecot, **overrides: Any) -> Any:
    """A Kefu mailbox reading ``support``'s INBOX over the plain listener."""
    from mail.models import Mailbox

    fields: dict[str, Any] = {
        "name": "Support",
        "address": "support@kefu.test",
        "host": server.host,
        "port": server.port,
        "security": "none",
        "username": SUPPORT_USER,
        "password": SUPPORT_PASSWORD,
    }
    fields.update(overrides)
    return Mailbox.objects.create(**fields)
