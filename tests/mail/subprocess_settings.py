"""Settings of the processes the mail tests start: the test settings plus a handler for the
kind "note" (tests/mail/probe), so a message piped in lands somewhere a test can see."""

from tests.settings import *  # noqa: F403
from tests.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.mail.probe"]
