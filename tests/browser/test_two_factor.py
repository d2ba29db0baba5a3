"""Two-step sign-in in Chromium (issue 8, item 8; docs/security.md, "Second factor"): a
supervisor's first login ends on the enrolment page, where they read the secret, confirm it
with a code, and are shown ten recovery codes once; later logins ask for a code, and a
recovery code does instead. The server runs with the rule on (KEFU_2FA_ENFORCED=1)."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django_otp.oath import TOTP

from tests.browser.conftest import VIEWPORT, expect

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def two_factor_on(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The server subprocess reads the rule from its environment (tests/settings.py turns
    it off for the rest of the suite)."""
    monkeypatch.setenv("KEFU_2FA_ENFORCED", "1")
    yield


@pytest.fixture
def enforcing_server(desk: Any, two_factor_on: None, server: str) -> str:
    return server


def code_from(secret: str, steps_ahead: int = 0) -> str:
    """What the authenticator app shows; a later login uses the next step's code (a code
    is accepted once, and the device allows one step of drift)."""
    totp = TOTP(base64.b32decode(secret.replace(" ", "")))
    totp.time = time.time() + steps_ahead * 30
    return f"{totp.token():06d}"


def password_step(page: Any, username: str) -> None:
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw")
    page.click("button[type=submit]")


def log_out(page: Any) -> None:
    page.click("form.logout button[type=submit]")
    expect(page.locator("#id_username")).to_be_visible()


def test_a_supervisor_enrols_then_signs_in_with_a_code_and_a_recovery_code(
    enforcing_server: str, browser: Any
) -> None:
    context = browser.new_context(base_url=enforcing_server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(10_000)
    page = context.new_page()

    # First login: the password, then the enrolment page before anything else.
    password_step(page, "supervisor")
    page.wait_for_url("**/login/enrol/")
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text()
    page.fill("#id_code", code_from(secret))
    page.click("form[action='/login/enrol/'] button[type=submit]")

    codes = page.locator("#recovery-codes code")
    expect(codes).to_have_count(10)
    recovery = codes.all_inner_texts()
    page.click("#continue")
    page.wait_for_url("**/board/")
    log_out(page)

    # Next login: the password, then the code.
    password_step(page, "supervisor")
    page.wait_for_url("**/login/code/")
    page.fill("#id_code", code_from(secret, 1))
    page.click("form[action='/login/code/'] button[type=submit]")
    page.wait_for_url("**/board/")
    expect(page.locator(".two-step-link")).to_be_visible()
    log_out(page)

    # Phone lost: a recovery code instead.
    password_step(page, "supervisor")
    page.wait_for_url("**/login/code/")
    page.fill("#id_code", recovery[0])
    page.click("form[action='/login/code/'] button[type=submit]")
    page.wait_for_url("**/board/")
    log_out(page)

    # The same recovery code does not work twice.
    password_step(page, "supervisor")
    page.wait_for_url("**/login/code/")
    page.fill("#id_code", recovery[0])
    page.click("form[action='/login/code/'] button[type=submit]")
    expect(page.locator("p.error[role=alert]")).to_contain_text("Wrong code")
    context.close()
