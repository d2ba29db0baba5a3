"""Test settings: the project's, plus a probe app whose flow exercises viewflow edge cases."""

from project.settings import *  # noqa: F403
from project.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.probe"]
