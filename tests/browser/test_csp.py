"""The Content-Security-Policy breaks none of the screens in a real browser (issue 8, item 7):
Chromium reports every refused script, style or connection on its console."""

from __future__ import annotations

from typing import Any

import pytest

from tests.browser.conftest import VIEWPORT, _Api, expect, live, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def refusals(page: Any) -> list[str]:
    seen: list[str] = []
    page.on(
        "console",
        lambda message: (
            seen.append(message.text) if "Content Security Policy" in message.text else None
        ),
    )
    return seen


def test_the_screens_run_under_the_policy(browser: Any, server: str, desk: Any, api: _Api) -> None:
    ticket = api.open_ticket(desk, "Policy check")
    context = browser.new_context(base_url=server, viewport=VIEWPORT)
    anonymous = context.new_page()
    refused = refusals(anonymous)
    anonymous.goto("/login/")
    # The language switch works without an inline handler.
    anonymous.select_option("#language", "zh-hans")
    expect(anonymous.locator("html")).to_have_attribute("lang", "zh-hans")
    anonymous.select_option("#language", "en")
    expect(anonymous.locator("html")).to_have_attribute("lang", "en")

    boss = login(browser, server, "supervisor", "pw")
    refused += refusals(boss)
    live(boss)  # scripts ran and the socket connected
    for path in (f"/tickets/{ticket['id']}/", f"/tickets/{ticket['id']}/process/", "/queue/"):
        boss.goto(path)
        live(boss)
    boss.goto("/api/docs/")
    expect(boss.locator(".swagger-ui .info")).to_be_visible()

    assert refused == []
