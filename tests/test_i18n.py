"""Simplified Chinese beside English: the catalogue is complete and compiled, and the API,
choices and notifications speak the reader's language (Accept-Language)."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import ast
import gettext
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from django.utils import translation

from tests.conftest import client_for
from tests.factories import open_ticket

ROOT = Path(__file__).resolve().parents[1]
MESSAGES = ROOT / "locale" / "zh_Hans" / "LC_MESSAGES"
PO = MESSAGES / "django.po"
MO = MESSAGES / "django.mo"
# Every Kefu package (a new app is covered without touching this file); makemessages scans
# the same code.
SOURCE_PACKAGES = tuple(
    sorted(
        path.parent.name
        for path in ROOT.glob("*/__init__.py")
        if path.parent.name not in {"tests", "build"} and not path.parent.name.startswith(".")
    )
)
MARKERS = {"_", "gettext", "gettext_lazy", "gettext_noop"}
PLACEHOLDER = re.compile(r"%\((\w+)\)[sdir]")
CJK = re.compile(r"[\u4e00-\u9fff]")

WAITING_ONLY_EN = "Only a ticket waiting on the customer can resume."
WAITING_ONLY_ZH = "只有处于“等待客户”状态的工单才能恢复处理。"


@pytest.fixture(autouse=True)
def _english_afterwards() -> Iterator[None]:
    """A request activates its language in this thread; later tests expect the default."""
    yield
    translation.deactivate()


# --- the catalogue ---------------------------------------------------------------
@dataclass
class Entry:
    msgid: str = ""
    msgstr: str = ""
    flags: set[str] = field(default_factory=set)
    obsolete: bool = False


def _unquote(line: str) -> str:
    literal = line[line.index('"') :]
    value = ast.literal_eval(literal)
    assert isinstance(value, str), line
    return value


def parse_po(path: Path) -> list[Entry]:
    """A small reader of msgid/msgstr blocks (no plural forms in this catalogue)."""
    entries: list[Entry] = []
    for block in path.read_text(encoding="utf-8").split("\n\n"):
        entry, target = Entry(), None
        for line in block.strip().splitlines():
            if line.startswith("#~"):
                entry.obsolete = True
            elif line.startswith("#,"):
                entry.flags |= {flag.strip() for flag in line[2:].split(",")}
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural") or line.startswith("msgstr["):
                pytest.fail(f"plural forms are not expected here: {line}")
            elif line.startswith("msgid "):
                target = "msgid"
                entry.msgid = _unquote(line)
            elif line.startswith("msgstr "):
                target = "msgstr"
                entry.msgstr = _unquote(line)
            elif line.startswith('"') and target is not None:
                setattr(entry, target, getattr(entry, target) + _unquote(line))
        if target is not None or entry.obsolete:
            entries.append(entry)
    return entries


def catalogue() -> dict[str, str]:
    return {e.msgid: e.msgstr for e in parse_po(PO) if e.msgid}


def test_catalogue_header_names_the_language_charset_and_plural_rule() -> None:
    header = next(e for e in parse_po(PO) if e.msgid == "")

    assert "fuzzy" not in header.flags
    assert "Language: zh_Hans\n" in header.msgstr
    assert "Content-Type: text/plain; charset=UTF-8\n" in header.msgstr
    assert "Plural-Forms: nplurals=1; plural=0;\n" in header.msgstr


def test_every_message_is_translated_and_none_is_fuzzy_or_obsolete() -> None:
    entries = [e for e in parse_po(PO) if e.msgid]

    assert len(entries) > 200
    assert [e.msgid for e in entries if not e.msgstr] == []
    assert [e.msgid for e in entries if "fuzzy" in e.flags] == []
    assert [e.msgid for e in entries if e.obsolete] == []


def test_every_translation_keeps_the_placeholders_of_its_message() -> None:
    wrong = {
        msgid: msgstr
        for msgid, msgstr in catalogue().items()
        if Counter(PLACEHOLDER.findall(msgid)) != Counter(PLACEHOLDER.findall(msgstr))
    }

    assert wrong == {}


def test_translations_are_chinese_except_codes_and_names() -> None:
    # Texts that are the same in both languages: a channel named by its acronym.
    same = {"API"}

    untranslated = [m for m, s in catalogue().items() if m not in same and not CJK.search(s)]

    assert untranslated == []


def _marked_strings(path: Path) -> Iterator[tuple[str, int]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        first = node.args[0]
        if name in MARKERS and isinstance(first, ast.Constant) and isinstance(first.value, str):
            yield first.value, node.lineno


def test_every_marked_string_in_the_code_is_in_the_catalogue() -> None:
    """The house rule: ``locale/zh_Hans`` stays complete when a string is added."""
    known = catalogue()
    missing = [
        f"{path.relative_to(ROOT)}:{line}: {text!r}"
        for package in SOURCE_PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
        for text, line in _marked_strings(path)
        if text not in known
    ]

    assert missing == [], "run makemessages, translate, then compilemessages"


def test_compiled_catalogue_matches_the_po_file() -> None:
    with MO.open("rb") as handle:
        compiled = gettext.GNUTranslations(handle)

    differing = {
        msgid: (msgstr, compiled.gettext(msgid))
        for msgid, msgstr in catalogue().items()
        if compiled.gettext(msgid) != msgstr
    }

    assert differing == {}, "run manage.py compilemessages"
    assert compiled.info()["language"] == "zh_Hans"


# --- the reader's language -------------------------------------------------------
def test_choice_labels_follow_the_active_language() -> None:
    from tickets.choices import Priority, TicketStatus

    with translation.override("zh-hans"):
        assert str(TicketStatus.PENDING_CUSTOMER.label) == "等待客户"
        assert str(Priority.P1.label) == "P1 - 紧急"
    with translation.override("en"):
        assert str(TicketStatus.PENDING_CUSTOMER.label) == "Waiting on customer"


def test_notification_title_is_rendered_in_the_readers_language() -> None:
    from notifications.messages import render_title

    data = {"number": "T-1", "level": 2}

    with translation.override("zh-hans"):
        assert render_title("escalated", data) == "工单 T-1 已升级（第 2 级）"
    with translation.override("en"):
        assert render_title("escalated", data) == "Ticket T-1 was escalated (level 2)"


def test_calendar_error_keeps_its_english_text_and_translates_from_its_template() -> None:
    from sla.calendars import CalendarError, parse_calendar

    with pytest.raises(CalendarError) as caught:
        parse_calendar("UTC", {"mon": [["10:00", "09:00"]]}, [])

    assert str(caught.value) == "bad window 10:00-09:00 on mon: the end must be after the start"
    with translation.override("zh-hans"):
        translated = translation.gettext(caught.value.template) % caught.value.params
    assert translated == "mon 的时段 10:00-09:00 无效：结束时间必须晚于开始时间"


@pytest.mark.django_db
def test_refusal_is_in_chinese_when_the_client_asks_for_it(desk: Any) -> None:
    ticket = open_ticket(desk)
    client = client_for(ticket.assignee)

    chinese = client.post(f"/api/tickets/{ticket.pk}/resume/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.post(f"/api/tickets/{ticket.pk}/resume/")

    assert chinese.status_code == 409
    assert chinese.json() == {"detail": WAITING_ONLY_ZH, "errors": {}}
    assert chinese["Content-Language"] == "zh-hans"
    assert english.status_code == 409
    assert english.json() == {"detail": WAITING_ONLY_EN, "errors": {}}


@pytest.mark.django_db
def test_refusal_names_the_status_in_the_readers_language(desk: Any) -> None:
    from tickets import services

    ticket = open_ticket(desk)
    services.resolve_ticket(ticket_id=ticket.pk, actor=ticket.assignee, resolution="Replaced")
    client = client_for(ticket.assignee)

    chinese = client.post(f"/api/tickets/{ticket.pk}/urge/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    english = client.post(f"/api/tickets/{ticket.pk}/urge/", HTTP_ACCEPT_LANGUAGE="en")

    assert chinese.status_code == 409
    assert chinese.json()["detail"] == "工单当前状态为“已解决”，无法催办。"
    assert english.json()["detail"] == "The ticket is Resolved; it cannot be urged."


@pytest.mark.django_db
def test_validation_errors_are_in_chinese_including_drfs_own(desk: Any) -> None:
    response = client_for(desk.admin).post(
        "/api/tickets/", {}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 400
    body = response.json()
    assert body["detail"] == "输入无效。"
    assert body["errors"]["subject"] == ["该字段是必填项。"]


@pytest.mark.django_db
def test_permission_message_is_in_chinese(desk: Any) -> None:
    response = client_for(desk.supervisor).post(
        "/api/teams/", {"name": "Night shift"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 403
    assert response.json() == {"detail": "仅管理员可以修改此项；主管只能查看。", "errors": {}}


@pytest.mark.django_db
def test_query_refusal_is_in_chinese(desk: Any) -> None:
    response = client_for(desk.admin).get(
        "/api/tickets/", {"status": "open,lost"}, HTTP_ACCEPT_LANGUAGE="zh-hans"
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "未知状态。", "errors": {"status": ["未知的值：lost。"]}}
