from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.smtp_sink import Sink, running_sink


@pytest.fixture(autouse=True)
def csat(db: Any) -> Any:
    """The built-in default template (a migration creates it; transactional tests flush it)."""
    from tests.factories import SurveyTemplateFactory

    return SurveyTemplateFactory(name="CSAT", scale="csat", is_default=True)


@pytest.fixture
def sink(settings: Any) -> Iterator[Sink]:
    """A real SMTP server; Django's SMTP backend points at it."""
    with running_sink() as server:
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST = server.host
        settings.EMAIL_PORT = server.port
        settings.EMAIL_USE_TLS = False
        settings.EMAIL_USE_SSL = False
        settings.EMAIL_HOST_USER = ""
        settings.EMAIL_HOST_PASSWORD = ""
        settings.EMAIL_TIMEOUT = 10
        yield server
