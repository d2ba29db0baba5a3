"""A privacy request on screen, end to end in Chromium against the real ASGI server, a real
Celery worker delivering the outbox and a real SMTP server: a manager records an access
request for a contact found by search → completes it → the contact's email arrives with
the signed link → the public page opens and the JSON downloads (docs/customers-privacy.md)."""

from __future__ import annotations

import json
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import expect, login
from tests.e2e.conftest import WorkerProcess, worker_env

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

EXPORT_LINK = re.compile(r"https?://[^\s\"'<>]+(/privacy/export/[A-Za-z0-9_:\-]+/)")
MAIL_TIMEOUT = 90


@pytest.fixture
def sink() -> Iterator[Any]:
    from tests.smtp_sink import running_sink

    with running_sink() as found:
        yield found


@pytest.fixture
def worker(server: str, live_layer: str, sink: Any) -> Iterator[WorkerProcess]:
    process = WorkerProcess(
        worker_env(broker=live_layer, KEFU_EMAIL_URL=sink.url, KEFU_OUTBOX_SWEEP_SECONDS="0.5"),
        Path(tempfile.mkdtemp(prefix="kefu-privacy-")),
    )
    try:
        yield process
    finally:
        process.stop()


def test_an_access_request_on_screen_to_the_downloaded_export(
    browser: Any, server: str, sink: Any, worker: WorkerProcess, transactional_db: Any
) -> None:
    from customers.models import PrivacyRequest
    from tests.factories import ContactFactory, CustomerFactory
    from tests.factories.complaints import ManagerFactory
    from tests.smtp_sink import body_text

    ManagerFactory(username="privacy-manager")
    contact: Any = ContactFactory(
        customer=CustomerFactory(name="Hangzhou Tea"),
        name="Qian Lan",
        email="qian.lan@example.com",
        phone="+8613700001111",
    )

    page = login(browser, server, "privacy-manager", "pw")
    page.goto("/privacy/")
    page.click("#new-privacy-link")
    page.fill("#privacy-q", "qian.lan")
    # each step is a page load: wait for it, so the click lands on the loaded list
    with page.expect_navigation(url=re.compile(r"[?&]q=qian\.lan")):
        page.press("#privacy-q", "Enter")
    with page.expect_navigation(url=re.compile(rf"[?&]contact={contact.pk}$")):
        page.click(f"#privacy-found a[data-contact='{contact.pk}']")
    expect(page.locator("#privacy-chosen")).to_contain_text("qian.lan@example.com")
    page.check("#kind-access")
    page.click("#privacy-submit")
    page.wait_for_url(re.compile(r"/privacy/\d+/$"))
    request = PrivacyRequest.objects.get(contact=contact)
    expect(page.locator("#privacy-number")).to_have_text(request.number)
    expect(page.locator("#privacy-status")).to_have_attribute("data-status", "received")
    expect(page.locator("#privacy-countdown")).to_contain_text("left")

    page.click("#privacy-start")
    expect(page.locator("#privacy-status")).to_have_attribute("data-status", "in_progress")
    page.click("#privacy-complete")
    expect(page.locator("#privacy-status")).to_have_attribute("data-status", "done")
    expect(page.locator("#privacy-export-status")).to_contain_text("7 days")

    sink.wait_for(1, timeout=MAIL_TIMEOUT, on_timeout=worker.log)
    [email] = [m for m in sink.messages if "qian.lan@example.com" in str(m["To"])]
    assert request.number in str(email["Subject"])
    match = EXPORT_LINK.search(body_text(email))
    assert match, body_text(email)

    visitor = browser.new_context(base_url=server).new_page()
    visitor.goto(match.group(1))
    expect(visitor.locator("h1")).to_have_text("Your personal data")
    with visitor.expect_download() as info:
        visitor.click("#privacy-download")
    data = json.loads(Path(info.value.path()).read_text(encoding="utf-8"))
    assert data["contact"]["email"] == "qian.lan@example.com"
    assert data["customer"]["name"] == "Hangzhou Tea"

    # a tampered link is not found
    tampered = visitor.goto(match.group(1)[:-3] + "xx/")
    assert tampered is not None and tampered.status == 404
