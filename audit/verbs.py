"""The registry of audit verbs: what each subject kind's events are called and how each
reads in the reader's language. A process app registers its verbs in ``AppConfig.ready()``;
``services.record`` refuses a verb nobody registered."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Verb:
    kind: str
    code: str
    label: str | Promise


_verbs: dict[tuple[str, str], Verb] = {}

# Configuration that administrators edit, audited on every path (API and admin).
CONFIGURATION_KINDS = {
    "team": _("team"),
    "sla_policy": _("SLA policy"),
    "calendar": _("business calendar"),
}


def register(kind: str, choices: Iterable[tuple[str, str | Promise]]) -> None:
    """Registers ``kind``'s verbs from ``(code, label)`` pairs (a TextChoices' ``choices``)."""
    for code, label in choices:
        _verbs[(kind, code)] = Verb(kind, code, label)


def get(kind: str, code: str) -> Verb | None:
    return _verbs.get((kind, code))


def label(kind: str, code: str) -> str:
    """How the verb reads in the active language (the code itself if nobody registered it)."""
    found = _verbs.get((kind, code))
    return str(found.label) if found else code


def register_configuration_verbs() -> None:
    for kind in CONFIGURATION_KINDS:
        register(
            kind, [("created", _("created")), ("changed", _("changed")), ("deleted", _("deleted"))]
        )
