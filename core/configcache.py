"""Configuration every intake reads (routing rules, SLA policies), kept in each process and
dropped everywhere when any process changes configuration.

Administrators edit teams, rules, policies and calendars a few times a week; intake reads
them on every ticket. Each process keeps what it built under the configuration's version,
a number in the shared cache (Redis in production) that every configuration save bumps —
at once, for the writing process, and again after commit, for the others (one that read
between the two would otherwise keep the old rows). A read costs one cache GET; when the
cache cannot be reached, the configuration is built from the database every time.
Configuration models register with ``watch`` (their apps' ``ready()``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.core.cache import cache
from django.db import transaction
from django.db.models import Model
from django.db.models.signals import m2m_changed, post_delete, post_save

logger = logging.getLogger(__name__)

KEY = "config-version"
T = TypeVar("T")

_lock = threading.Lock()
_built: dict[str, Any] = {}
_version: list[int | None] = [None]


def _current() -> int | None:
    try:
        value = cache.get(KEY)
    except Exception:  # the cache is down: build from the database
        logger.warning("configuration cache unreachable; reading the database", exc_info=True)
        return None
    return int(value) if value is not None else 0


def cached(name: str, build: Callable[[], T]) -> T:
    """``build()``'s result, built once per configuration version in this process."""
    version = _current()
    if version is None:
        return build()
    with _lock:
        if _version[0] != version:
            _built.clear()
            _version[0] = version
        if name in _built:
            found: T = _built[name]
            return found
    value = build()
    with _lock:
        if _version[0] == version:
            _built[name] = value
    return value


def bump() -> None:
    """Every process's configuration is stale: the next read builds it anew."""
    try:
        try:
            cache.incr(KEY)
        except ValueError:  # not set yet
            cache.add(KEY, 1, timeout=None)
    except Exception:
        logger.warning("configuration cache unreachable; version not bumped", exc_info=True)
    with _lock:
        _built.clear()
        _version[0] = None


def forget() -> None:
    """Drops this process's copies (tests whose rows vanished with a rollback)."""
    with _lock:
        _built.clear()
        _version[0] = None


def _changed(**_kwargs: Any) -> None:
    bump()
    transaction.on_commit(bump)


def watch(*models: type[Model], state_fields: Iterable[str] = ()) -> None:
    """Any save or delete of these models (and their many-to-many) bumps the version, except
    a save whose ``update_fields`` are all ``state_fields`` (what a process records about a
    row as it runs, e.g. a mailbox's last poll: not configuration)."""
    state = frozenset(state_fields)

    def saved(update_fields: Iterable[str] | None = None, **_kwargs: Any) -> None:
        if state and update_fields is not None and set(update_fields) <= state:
            return
        _changed()

    for model in models:
        uid = f"kefu-config-{model._meta.label_lower}"
        post_save.connect(saved, sender=model, dispatch_uid=f"{uid}-save", weak=False)
        post_delete.connect(_changed, sender=model, dispatch_uid=f"{uid}-delete", weak=False)
        for field in model._meta.many_to_many:
            through = getattr(model, field.name).through
            m2m_changed.connect(
                _changed, sender=through, dispatch_uid=f"{uid}-{field.name}", weak=False
            )
