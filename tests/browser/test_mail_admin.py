"""An administrator works the mail quarantine and the mailboxes in the Django admin
(docs/email.md, "Quarantine"): lists by status, retries, discards, downloads the raw
message; adds a mailbox and reads its last error."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, expect

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]

CORPUS = Path(__file__).resolve().parents[1] / "mail" / "corpus"


@pytest.fixture
def shared_media(settings: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """One media folder for this process and the server (started after this fixture)."""
    root = tmp_path / "media"
    root.mkdir()
    settings.MEDIA_ROOT = str(root)
    monkeypatch.setenv("KEFU_MEDIA_ROOT", str(root))
    yield root


@pytest.fixture
def root(transactional_db: Any) -> Iterator[Any]:
    from django.contrib.auth.models import User

    yield User.objects.create_superuser("root", "root@example.com", "pw")


@contextmanager
def closing_connection() -> Iterator[None]:
    """The test body's queries run on a database connection of the body's own context (the
    fixtures' teardown, in another, cannot close it): closed here, or it outlives the test
    and keeps the test database from being dropped."""
    from django.db import connection

    try:
        yield
    finally:
        connection.close()


def admin_page(browser: Any, server: str) -> Any:
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def run_action(page: Any, row_id: int, action: str) -> None:
    page.check(f"input[name=_selected_action][value='{row_id}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")


def test_an_administrator_retries_discards_and_downloads_quarantined_mail(
    shared_media: Path, root: Any, server: str, browser: Any, settings: Any
) -> None:
    with closing_connection():
        from mail.models import AddressState, InboundEmail, InboundStatus
        from mail.services import receive_raw

        bounce_raw = (CORPUS / "dsn_bounce.eml").read_bytes()
        nobody_raw = (CORPUS / "no_sender.eml").read_bytes()
        settings.KEFU_INBOUND_MAX_BYTES = 1000  # here only: the server keeps the default limit
        settings.KEFU_SUPPORT_ADDRESS = "support@kefu.localhost"
        too_large = receive_raw(bounce_raw, source="lmtp")
        nobody = receive_raw(nobody_raw, source="imap")
        own = receive_raw(
            b"From: support@kefu.localhost\r\nMessage-ID: <own@kefu>\r\n\r\nloop\r\n", source="imap"
        )
        assert (too_large.reason, nobody.reason, own.status) == (
            "too_large",
            "no_sender",
            InboundStatus.IGNORED,
        )
        page = admin_page(browser, server)

        page.goto("/admin/mail/inboundemail/?status__exact=quarantined")
        rows = page.locator("#result_list tbody tr")
        expect(rows).to_have_count(2)
        expect(page.locator("#result_list")).to_contain_text("Larger than the inbound limit")
        expect(page.locator("#result_list")).to_contain_text("No sender")

        run_action(page, too_large.pk, "retry_selected")
        expect(page.locator(".messagelist")).to_contain_text("Retried. Now Ignored: 1.")
        expect(rows).to_have_count(1)
        too_large.refresh_from_db()
        assert (too_large.status, too_large.reason, too_large.attempts) == ("ignored", "bounce", 2)
        assert AddressState.objects.get(address="no.such.user@example.com").bouncing_since

        run_action(page, nobody.pk, "discard_selected")
        expect(page.locator(".messagelist")).to_contain_text("1 email(s) discarded.")
        expect(page.locator("#result_list")).to_have_count(0)
        assert InboundEmail.objects.get(pk=nobody.pk).status == InboundStatus.DISCARDED

        page.goto(f"/admin/mail/inboundemail/{nobody.pk}/change/")
        with page.expect_download() as download_info:
            page.click("a.kefu-raw-download")
        download = download_info.value
        assert download.suggested_filename == f"inbound-{nobody.pk}.eml"
        assert Path(download.path()).read_bytes() == nobody_raw


def test_an_administrator_adds_a_mailbox_and_reads_its_last_error(
    shared_media: Path, root: Any, server: str, browser: Any
) -> None:
    with closing_connection():
        from mail.models import Mailbox

        page = admin_page(browser, server)
        page.goto("/admin/mail/mailbox/add/")
        page.fill("#id_name", "Support")
        page.fill("#id_address", "support@kefu.example")
        page.fill("#id_host", "imap.kefu.example")
        page.fill("#id_username", "support")
        page.fill("#id_password", "s3cret")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was added successfully")

        mailbox = Mailbox.objects.get()
        assert (mailbox.password, mailbox.port, mailbox.security) == ("s3cret", 993, "tls")
        Mailbox.objects.filter(pk=mailbox.pk).update(
            last_error="authentication failed: [AUTHENTICATIONFAILED] Invalid credentials",
        )
        page.goto("/admin/mail/mailbox/")
        expect(page.locator("#result_list")).to_contain_text("authentication failed")

        page.goto(f"/admin/mail/mailbox/{mailbox.pk}/change/")
        expect(page.locator(".field-last_error")).to_contain_text("Invalid credentials")
        expect(page.locator("#id_password")).to_have_value("")
        page.fill("#id_folder", "Support")
        page.click("input[name=_save]")
        expect(page.locator(".messagelist")).to_contain_text("was changed successfully")
        mailbox.refresh_from_db()
        assert (mailbox.password, mailbox.folder) == ("s3cret", "Support")
