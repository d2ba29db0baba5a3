"""Fixtures of the mail tests: a real Dovecot (tests/mail/dovecot.py) and a Kefu mailbox
that reads it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.mail.dovecot import Dovecot, running_dovecot

# The mailbox Kefu reads and its password; a second user for tests that need two.
SUPPORT_USER = "support"
SUPPORT_PASSWORD = "s3cret-imap"


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
