"""The login page in Chromium when an account is locked out (docs/security.md, "Logins and
passwords"): the fifth wrong password locks the account, the page says so in the reader's
language with 429, and the right password is refused until the lockout ends."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, forget_server_cache, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


def _forget_login_counters(layer_url: str) -> None:
    """The server's failed-login counters live in its cache (the Redis database after its
    channel layer's) and outlive a test; this address and account start from zero and leave
    nothing locked for the next test."""
    forget_server_cache(layer_url, "*login-guard:*")


@pytest.fixture
def fresh_counters(live_layer: str) -> Iterator[None]:
    _forget_login_counters(live_layer)
    yield
    _forget_login_counters(live_layer)


@pytest.fixture
def agents(transactional_db: Any) -> list[Any]:
    """Made before the browser starts: ORM calls inside Playwright's event loop would open a
    connection of their own that outlives the test."""
    from tests.factories import AgentFactory

    return [AgentFactory(username="agent1"), AgentFactory(username="agent2")]


def try_password(page: Any, username: str, password: str) -> int:
    """Submits the login form; returns the status of the page it answered with."""
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation() as navigation:
        page.click("button[type=submit]")
    status: int = navigation.value.status
    return status


def test_the_login_page_shows_the_lockout_and_refuses_the_right_password(
    agents: list[Any], server: str, browser: Any, fresh_counters: None
) -> None:
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    error = page.locator("p.error[role=alert]")

    codes = [try_password(page, "agent1", f"guess-{n}") for n in range(4)]
    assert codes == [200] * 4
    expect(error).to_contain_text("Please enter a correct username and password")

    assert try_password(page, "agent1", "guess-5") == 429
    expect(error).to_have_text("Too many failed logins. Try again in 1 min.")

    assert try_password(page, "agent1", "pw") == 429
    expect(error).to_have_text("Too many failed logins. Try again in 1 min.")
    assert page.url.endswith("/login/")
    expect(page.locator("#id_username")).to_have_value("agent1")
    page.goto("/queue/")
    assert "/login/" in page.url  # no session was opened
    context.close()

    chinese = browser.new_context(base_url=server, viewport=VIEWPORT, locale="zh-CN")
    chinese.set_default_timeout(STEP_TIMEOUT_MS)
    page = chinese.new_page()
    page.goto("/login/")
    assert try_password(page, "AGENT1", "pw") == 429  # the same account, any case
    expect(page.locator("p.error[role=alert]")).to_contain_text("登录失败次数过多")
    chinese.close()


def test_another_account_still_logs_in_from_the_same_browser(
    agents: list[Any], server: str, browser: Any, fresh_counters: None
) -> None:
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    for n in range(5):
        try_password(page, "agent1", f"guess-{n}")
    context.close()

    queue = login(browser, server, "agent2", "pw")

    assert queue.url.endswith("/queue/")
    queue.context.close()
