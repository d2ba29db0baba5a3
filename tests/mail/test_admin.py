"""The inbound admin pages through Django's test client: the raw download and who may have
it, the quarantine's actions refused to whoever may not use them, the mailbox password."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client

from mail.models import InboundEmail, InboundStatus, Mailbox
from mail.services import receive_raw

from .conftest import corpus

pytestmark = pytest.mark.django_db


@pytest.fixture
def root() -> Client:
    user = User.objects.create_superuser("root", "root@example.com", "pw")
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def quarantined(handlers: dict[str, Any]) -> InboundEmail:
    return receive_raw(corpus("no_sender.eml"), source="imap")


def staff_with(*codenames: str) -> Client:
    user = User.objects.create_user("clerk", "clerk@example.com", "pw", is_staff=True)
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    client = Client()
    client.force_login(user)
    return client


def test_an_administrator_downloads_the_raw_message(root: Client, quarantined: Any) -> None:
    response = root.get(f"/admin/mail/inboundemail/{quarantined.pk}/raw/")

    assert response.status_code == 200
    assert response["Content-Type"] == "message/rfc822"
    assert response["Content-Disposition"] == f'attachment; filename="inbound-{quarantined.pk}.eml"'
    assert b"".join(response.streaming_content) == corpus("no_sender.eml")  # type: ignore[attr-defined]


@pytest.mark.parametrize("codenames", [("view_mailbox",), ("view_inboundemail",)])
def test_the_raw_message_is_for_administrators_only(
    quarantined: Any, codenames: tuple[str, ...]
) -> None:
    client = staff_with(*codenames)  # may view inbound mail, or not; no administrator

    response = client.get(f"/admin/mail/inboundemail/{quarantined.pk}/raw/")

    assert response.status_code == 403


def test_a_retry_whose_raw_message_is_gone_says_so(
    root: Client, handlers: dict[str, Any], admin: Any
) -> None:
    from core.errors import Conflict
    from mail import services

    row = receive_raw(corpus("no_sender.eml"), source="imap")
    row.raw.storage.delete(str(row.raw.name))

    with pytest.raises(Conflict, match="missing from the storage"):
        services.retry(row.pk, actor=admin)
    row.refresh_from_db()
    assert (row.status, row.attempts) == (InboundStatus.QUARANTINED, 1)


def test_the_list_filters_by_status_and_links_the_raw_message(
    root: Client, quarantined: Any, handlers: dict[str, Any]
) -> None:
    bounce = receive_raw(corpus("dsn_bounce.eml"), source="lmtp")

    listed = root.get("/admin/mail/inboundemail/?status__exact=quarantined")
    change = root.get(f"/admin/mail/inboundemail/{quarantined.pk}/change/")

    assert listed.status_code == 200
    assert list(listed.context["cl"].result_list) == [quarantined]
    assert bounce.status == InboundStatus.IGNORED
    assert f"/admin/mail/inboundemail/{quarantined.pk}/raw/" in change.content.decode()
    assert "No sender" in change.content.decode()


def test_the_quarantine_actions_are_refused_to_staff_who_are_not_administrators(
    quarantined: Any,
) -> None:
    client = staff_with("view_inboundemail", "change_inboundemail")

    response = client.post(
        "/admin/mail/inboundemail/",
        {"action": "discard_selected", "_selected_action": [quarantined.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "Only an administrator may manage the mail quarantine." in response.content.decode()
    quarantined.refresh_from_db()
    assert quarantined.status == InboundStatus.QUARANTINED


def test_a_new_mailbox_needs_a_password_and_a_change_keeps_it(root: Client) -> None:
    fields = {
        "name": "Support",
        "address": "support@kefu.example",
        "opens": "ticket",
        "enabled": "on",
        "host": "imap.kefu.example",
        "port": "993",
        "security": "tls",
        "username": "support",
        "folder": "INBOX",
        "done_folder": "",
    }

    refused = root.post("/admin/mail/mailbox/add/", {**fields, "password": ""})
    assert refused.status_code == 200 and not Mailbox.objects.exists()
    assert "A new mailbox needs its password." in refused.content.decode()

    root.post("/admin/mail/mailbox/add/", {**fields, "password": "s3cret"})
    mailbox = Mailbox.objects.get()
    page = root.get(f"/admin/mail/mailbox/{mailbox.pk}/change/").content.decode()
    root.post(f"/admin/mail/mailbox/{mailbox.pk}/change/", {**fields, "folder": "Support"})

    mailbox.refresh_from_db()
    assert (mailbox.password, mailbox.folder) == ("s3cret", "Support")
    assert "s3cret" not in page
