"""Test settings: the project's, plus a probe app whose flow exercises viewflow edge cases."""

import os

# The existing suite logs staff in without a second factor (force_login, the login page):
# the rule is off unless a test turns it on (settings.KEFU_2FA_ENFORCED = True). Set in the
# environment so the browser tests' server subprocess inherits it too (docs/security.md,
# "Second factor").
os.environ.setdefault("KEFU_2FA_ENFORCED", "0")
# Attachments and raw mail of a test run go to a folder of the run (inherited by the servers
# the tests start), never into the checkout's var/media.
if "KEFU_MEDIA_ROOT" not in os.environ:
    import tempfile

    os.environ["KEFU_MEDIA_ROOT"] = tempfile.mkdtemp(prefix="kefu-media-")

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.probe"]
