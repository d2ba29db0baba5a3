"""The shipped complaints configuration for transactional tests: their flush removes what
the data migration (complaints/migrations/0002_defaults.py) wrote, and its ``forwards`` is
idempotent, so a test that needs it writes it again."""

from __future__ import annotations

import importlib

from django.apps import apps


def ensure_defaults() -> None:
    importlib.import_module("complaints.migrations.0002_defaults").forwards(apps, None)
