"""Fixtures of the mail tests: the corpus, a private media folder, real handlers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from mail import inbound

from .probe.handlers import FailingHandler, NoteHandler

CORPUS = Path(__file__).parent / "corpus"


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
