"""The customer pages without an account (docs/email.md, "Customer pages"): the web form
``/help/``, the request page ``/help/requests/<token>/`` with its files and reply box, and
the pages that email a new link. Every refusal leaves nothing behind."""

# Chinese text is written with full-width punctuation on purpose.
# ruff: noqa: RUF001

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pytest
from django.core import signing
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone
from viewflow.workflow.models import Task
from viewflow.workflow.status import STATUS

from customers.models import Contact
from mail.models import Attachment
from outbox.models import OutboxMessage
from processes import dispatcher
from tests.concurrency import run_together
from tests.factories import CategoryFactory, ContactFactory, CustomerFactory, open_ticket
from tickets import links, services
from tickets.emails import ACKNOWLEDGED, LINK_REQUESTED
from tickets.models import Ticket, TicketMessage, WebFormUse
from tickets.services import web_requests

FORM_TOKEN = re.compile(r'name="form_token" value="([^"]+)"')
PRIVATE = {
    "Cache-Control": "private, no-store",
    "Referrer-Policy": "same-origin",
    "X-Robots-Tag": "noindex, nofollow",
}


@pytest.fixture
def browser() -> Client:
    return Client(enforce_csrf_checks=True)


def form_token(html: str) -> str:
    match = FORM_TOKEN.search(html)
    assert match is not None, "the page carries no one-time form token"
    return match.group(1)


def open_form(browser: Client, url: str = "/help/", **headers: Any) -> tuple[str, str]:
    """GETs a page with a form: its CSRF token (from the cookie) and its one-time token."""
    page = browser.get(url, **headers)
    assert page.status_code == 200
    return browser.cookies["csrftoken"].value, form_token(page.content.decode())


def send_form(browser: Client, fields: dict[str, Any] | None = None, **headers: Any) -> Any:
    csrf, token = open_form(browser, **headers)
    data = {
        "name": "Han Meimei",
        "email": "han.meimei@example.com",
        "subject": "Printer jams",
        "description": "Every second page jams.",
        "category": "",
        "website": "",
        "csrfmiddlewaretoken": csrf,
        "form_token": token,
        **(fields or {}),
    }
    return browser.post("/help/", data, **headers)


def assert_nothing_created(contacts_before: int) -> None:
    assert Ticket.objects.count() == 0
    assert Contact.objects.count() == contacts_before
    assert Attachment.objects.count() == 0
    assert WebFormUse.objects.count() == 0
    assert OutboxMessage.objects.filter(kind=LINK_REQUESTED).count() == 0


def assert_private(response: Any) -> None:
    for name, value in PRIVATE.items():
        assert response[name] == value, name


# --- the web form --------------------------------------------------------------------------
def test_the_form_offers_the_categories_and_a_one_time_token(desk: Any, browser: Client) -> None:
    CategoryFactory(code="billing", name="Billing question")
    CategoryFactory(code="hardware", name="Broken device")

    page = browser.get("/help/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<option value="billing">Billing question</option>' in html
    assert '<option value="hardware">Broken device</option>' in html
    assert 'enctype="multipart/form-data"' in html
    assert 'name="csrfmiddlewaretoken"' in html
    assert 'type="file" multiple' in html
    assert 'name="website"' in html and 'tabindex="-1"' in html  # the honeypot
    assert form_token(html)
    assert '<meta name="referrer" content="same-origin">' in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert "<script>" not in html  # the site's CSP allows no inline script
    assert_private(page)


def test_a_request_becomes_a_web_ticket_with_its_files(desk: Any, browser: Client) -> None:
    CategoryFactory(code="hardware", name="Broken device")
    files = [
        SimpleUploadedFile("jam.jpg", b"\xff\xd8photo", content_type="image/jpeg"),
        SimpleUploadedFile("log.txt", b"E42 paper jam", content_type="text/plain"),
    ]

    answer = send_form(browser, {"category": "hardware", "attachments": files})

    assert answer.status_code == 303
    ticket = Ticket.objects.get()
    assert ticket.category is not None
    assert (ticket.channel, ticket.priority, ticket.category.code) == ("web", "P3", "hardware")
    assert (ticket.subject, ticket.description) == ("Printer jams", "Every second page jams.")
    assert ticket.created_by is None
    # the contact by address, created without a customer; routed and timed as any intake
    contact = ticket.contact
    assert (contact.email, contact.name, contact.customer_id) == (
        "han.meimei@example.com",
        "Han Meimei",
        None,
    )
    assert contact.language == "en"
    assert ticket.team == desk.team
    assert ticket.sla_clock is not None
    # the customer's text is the thread's first message, and carries the files
    first = TicketMessage.objects.get(ticket=ticket)
    assert (first.body, first.channel, first.contact_id, first.author_id, first.internal) == (
        "Every second page jams.",
        "web",
        contact.pk,
        None,
        False,
    )
    stored = {a.name: a for a in Attachment.objects.filter(subject_kind="ticket")}
    assert set(stored) == {"jam.jpg", "log.txt"}
    assert {(a.object_id, a.message_id, a.original) for a in stored.values()} == {
        (ticket.pk, first.pk, False)
    }
    assert stored["log.txt"].file.read() == b"E42 paper jam"
    assert stored["jam.jpg"].content_type == "image/jpeg"
    assert WebFormUse.objects.get().ticket == ticket
    # open_ticket acknowledges the request: the number and the link, to the address given
    ack = OutboxMessage.objects.get(kind=ACKNOWLEDGED)
    assert (ack.to, ack.object_id) == ("han.meimei@example.com", ticket.pk)
    assert ticket.number in ack.subject and "/help/requests/" in ack.body_text

    receipt = browser.get(answer["Location"])
    html = receipt.content.decode()
    assert receipt.status_code == 200
    assert f'<strong class="ticket-number" id="ticket-number">{ticket.number}</strong>' in html
    assert "An acknowledgement email is on its way" in html
    assert_private(receipt)
    assert browser.get(answer["Location"]).status_code == 200  # a reload sends nothing again
    assert Ticket.objects.count() == 1


def test_a_request_in_chinese_makes_a_chinese_contact_and_page(desk: Any) -> None:
    browser = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")

    form = browser.get("/help/").content.decode()
    answer = send_form(browser, {"subject": "打印机卡纸", "description": "每隔一页就卡纸。"})

    assert 'lang="zh-hans"' in form and "我们能帮您什么？" in form
    assert answer.status_code == 303
    ticket = Ticket.objects.get()
    assert ticket.subject == "打印机卡纸"
    assert ticket.contact.language == "zh-hans"
    ack = OutboxMessage.objects.get(kind=ACKNOWLEDGED)
    assert "您好" in ack.body_text  # the acknowledgement in the language the customer wrote in
    receipt = browser.get(answer["Location"]).content.decode()
    assert "您的请求编号" in receipt and ticket.number in receipt


def test_a_known_address_finds_its_contact_and_keeps_its_language(
    desk: Any, browser: Client
) -> None:
    contacts = Contact.objects.count()
    name = desk.contact.name

    answer = send_form(
        browser,
        {"email": " Li.Lei@Example.com ", "name": "Someone else"},
        HTTP_ACCEPT_LANGUAGE="zh",
    )

    assert answer.status_code == 303
    ticket = Ticket.objects.get()
    assert ticket.contact == desk.contact
    assert ticket.customer == desk.customer
    assert Contact.objects.count() == contacts
    desk.contact.refresh_from_db()
    assert (desk.contact.name, desk.contact.language) == (name, "en")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"email": "not-an-address"}, "email", "Enter a valid email address."),
        ({"email": ""}, "email", "This field may not be blank."),
        ({"subject": "   "}, "subject", "This field may not be blank."),
        ({"subject": "x" * 201}, "subject", "Ensure this field has no more than 200 characters."),
        ({"description": ""}, "description", "Please tell us what happened."),
        ({"category": "no-such-thing"}, "category", "No category with code"),
        ({"category": "not a slug!"}, "category", "Enter a valid"),
        ({"name": "n" * 201}, "name", "Ensure this field has no more than 200 characters."),
    ],
)
def test_a_refused_field_shows_the_form_again_with_everything_kept(
    desk: Any, browser: Client, fields: dict[str, str], field: str, message: str
) -> None:
    contacts = Contact.objects.count()

    answer = send_form(browser, {"description": "My words stay", **fields})

    html = answer.content.decode()
    assert answer.status_code == 400
    assert f'id="err-{field}"' in html
    assert message in html
    assert 'aria-invalid="true"' in html
    if field != "description":
        assert "My words stay</textarea>" in html
    assert 'value="Han Meimei"' in html or field == "name"
    assert_private(answer)
    assert_nothing_created(contacts)


def test_an_oversized_file_refuses_the_whole_request(
    desk: Any, browser: Client, settings: Any
) -> None:
    settings.KEFU_ATTACHMENT_MAX_BYTES = 1024
    contacts = Contact.objects.count()
    files = [
        SimpleUploadedFile("ok.txt", b"fine", content_type="text/plain"),
        SimpleUploadedFile("huge.log", b"x" * 1025, content_type="text/plain"),
    ]

    answer = send_form(browser, {"attachments": files})

    html = answer.content.decode()
    assert answer.status_code == 400
    assert "huge.log is too large" in html
    assert "Please choose your files again." in html
    assert 'value="Printer jams"' in html
    assert "Every second page jams.</textarea>" in html
    assert_nothing_created(contacts)


def test_a_refused_file_type_refuses_the_whole_request(desk: Any, browser: Client) -> None:
    contacts = Contact.objects.count()
    program = SimpleUploadedFile(
        "setup.exe", b"MZ\x90\x00", content_type="application/x-msdownload"
    )

    answer = send_form(browser, {"attachments": [program]})

    assert answer.status_code == 400
    assert "setup.exe is of a type that is not accepted" in answer.content.decode()
    assert_nothing_created(contacts)


def test_more_files_than_allowed_are_refused(desk: Any, browser: Client) -> None:
    contacts = Contact.objects.count()
    files = [
        SimpleUploadedFile(f"f{n}.txt", b"x", content_type="text/plain")
        for n in range(web_requests.MAX_FILES + 1)
    ]

    answer = send_form(browser, {"attachments": files})

    assert answer.status_code == 400
    assert f"Attach at most {web_requests.MAX_FILES} files." in answer.content.decode()
    assert_nothing_created(contacts)


def test_a_file_over_the_service_limit_rolls_back_the_ticket(desk: Any, settings: Any) -> None:
    """The service checks again as it stores: a file that got past the page is refused
    inside the transaction and takes the ticket with it."""
    from core.errors import InvalidInput
    from mail.inbound import IncomingAttachment

    settings.KEFU_ATTACHMENT_MAX_BYTES = 4
    with pytest.raises(InvalidInput, match="too large"):
        web_requests.submit_web_request(
            form_nonce="n1",
            email="a@example.com",
            name="",
            subject="s",
            description="d",
            category_code=None,
            language="en",
            attachments=[IncomingAttachment("big.bin", "application/octet-stream", b"12345")],
        )
    assert_nothing_created(Contact.objects.count())


def test_the_honeypot_is_answered_as_accepted_and_creates_nothing(
    desk: Any, browser: Client
) -> None:
    contacts = Contact.objects.count()

    answer = send_form(browser, {"website": "http://spam.example/"})

    assert answer.status_code == 303
    receipt = browser.get(answer["Location"])
    html = receipt.content.decode()
    assert receipt.status_code == 200
    assert "Thank you: we have your request" in html
    assert "ticket-number" not in html
    assert_nothing_created(contacts)


def test_posts_are_throttled_per_client_address(desk: Any, settings: Any) -> None:
    settings.KEFU_HELP_THROTTLE = "2/hour"  # an hour's window: the test never straddles two
    client = Client(REMOTE_ADDR="203.0.113.7")

    codes = [send_form(client, {"subject": f"n{n}"}).status_code for n in range(2)]
    limited = send_form(client, {"subject": "third"})

    assert codes == [303, 303]
    assert limited.status_code == 429
    assert 1 <= int(limited["Retry-After"]) <= 3600
    html = limited.content.decode()
    assert "Too many requests" in html and "<h1>" in html
    assert_private(limited)
    assert Ticket.objects.count() == 2
    # reading the form is not counted, and another address is not affected
    assert client.get("/help/").status_code == 200
    assert send_form(Client(REMOTE_ADDR="203.0.113.8")).status_code == 303


def test_a_post_without_the_csrf_token_is_refused(desk: Any, browser: Client) -> None:
    _csrf, token = open_form(browser)
    contacts = Contact.objects.count()

    answer = browser.post(
        "/help/",
        {"email": "a@example.com", "subject": "s", "description": "d", "form_token": token},
    )

    assert answer.status_code == 403
    assert_nothing_created(contacts)


def test_the_same_form_sent_twice_makes_one_ticket(desk: Any, browser: Client) -> None:
    csrf, token = open_form(browser)
    data = {
        "email": "twice@example.com",
        "subject": "Double click",
        "description": "Pressed twice",
        "csrfmiddlewaretoken": csrf,
        "form_token": token,
    }

    first = browser.post("/help/", data)
    second = browser.post("/help/", data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert first["Location"] == second["Location"]
    assert Ticket.objects.count() == 1
    number = Ticket.objects.get().number
    assert number in browser.get(second["Location"]).content.decode()


def test_a_used_token_with_other_content_is_not_taken_for_a_repeat(
    desk: Any, browser: Client
) -> None:
    csrf, token = open_form(browser)
    data = {
        "email": "stale@example.com",
        "subject": "First",
        "description": "one",
        "csrfmiddlewaretoken": csrf,
        "form_token": token,
    }
    assert browser.post("/help/", data).status_code == 303
    number = Ticket.objects.get().number

    again = browser.post("/help/", {**data, "subject": "Second, changed"})

    html = again.content.decode()
    assert again.status_code == 409
    assert f"it became request {number}" in html
    assert 'value="Second, changed"' in html
    assert form_token(html) != token  # a fresh form to send the new request with
    assert Ticket.objects.count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_posts_of_one_form_make_one_ticket(desk: Any) -> None:
    def submit() -> int:
        ticket, _created = web_requests.submit_web_request(
            form_nonce="same-nonce",
            email="racer@example.com",
            name="",
            subject="Race",
            description="twice at once",
            category_code=None,
            language="en",
        )
        return ticket.pk

    first, second = run_together(submit, submit)

    assert first == second
    assert Ticket.objects.count() == 1
    assert WebFormUse.objects.count() == 1


@pytest.mark.parametrize("token", ["", "forged", "tampered"])
def test_a_missing_forged_or_old_form_token_sends_nothing(
    desk: Any, browser: Client, token: str
) -> None:
    contacts = Contact.objects.count()
    if token == "tampered":
        _csrf, real = open_form(browser)
        token = real[:-2] + ("AA" if not real.endswith("AA") else "BB")

    answer = send_form(browser, {"form_token": token})

    html = answer.content.decode()
    assert answer.status_code == 400
    assert "The form was open too long to be sent." in html
    assert 'value="Printer jams"' in html
    assert_nothing_created(contacts)


def test_a_form_older_than_a_day_is_shown_again(desk: Any, browser: Client) -> None:
    contacts = Contact.objects.count()
    old = _signed_long_ago({"n": "nonce", "s": "form"}, "kefu.help.form", days=2)

    answer = send_form(browser, {"form_token": old})

    assert answer.status_code == 400
    assert_nothing_created(contacts)


def test_an_address_shared_by_two_customers_is_sent_to_email(desk: Any, browser: Client) -> None:
    ContactFactory(customer=CustomerFactory(), email="shared@example.com")
    ContactFactory(customer=CustomerFactory(), email="shared@example.com")
    contacts = Contact.objects.count()

    answer = send_form(browser, {"email": "shared@example.com"})

    html = answer.content.decode()
    assert answer.status_code == 400
    assert "We cannot take a request for this address through the form." in html
    assert "Please write to" in html
    assert "customer_id" not in html
    assert_nothing_created(contacts)


def test_a_forged_receipt_is_not_found(desk: Any, browser: Client) -> None:
    answer = browser.get("/help/sent/T-2026-000001/")
    assert answer.status_code == 404
    assert "This page has expired" in answer.content.decode()
    assert_private(answer)


def test_a_form_with_large_files_passes_the_body_limit(
    desk: Any, browser: Client, settings: Any
) -> None:
    """The site refuses bodies over 2 MB before any view; the customer pages take files up
    to ``KEFU_ATTACHMENT_MAX_BYTES`` each, so their bound is ``KEFU_INBOUND_MAX_BYTES``."""
    big = b"x" * (3 * 2**20)
    answer = send_form(
        browser, {"attachments": [SimpleUploadedFile("scan.pdf", big, "application/pdf")]}
    )
    assert answer.status_code == 303
    assert Attachment.objects.get().size == len(big)

    settings.KEFU_INBOUND_MAX_BYTES = 2**20
    refused = send_form(
        browser, {"attachments": [SimpleUploadedFile("scan.pdf", big, "application/pdf")]}
    )
    assert refused.status_code == 413
    assert Ticket.objects.count() == 1


# --- the request page -------------------------------------------------------------------
def _signed_long_ago(value: Any, salt: str, *, days: float) -> str:
    """A value signed ``days`` ago (a link or form that has had its time)."""

    class Backdated(signing.TimestampSigner):
        def timestamp(self) -> str:
            return signing.b62_encode(int(time.time() - days * 86400))

    return Backdated(salt=salt).sign_object(value, compress=False)


def expired_link(ticket: Ticket, contact_id: int | None = None) -> str:
    return _signed_long_ago([ticket.pk, contact_id or ticket.contact_id], links.SALT, days=31)


def link_of(ticket: Ticket, contact_id: int | None = None) -> str:
    token = links.request_token(ticket_id=ticket.pk, contact_id=contact_id or ticket.contact_id)
    return f"/help/requests/{token}/"


@pytest.fixture
def conversation(desk: Any) -> dict[str, Any]:
    """A ticket with its opening file, an agent's public reply, an internal note with a
    file, and the customer's answer with a file; and another ticket of the same contact."""
    from mail.attachments import store
    from mail.inbound import IncomingAttachment

    ticket = open_ticket(desk, subject="VPN drops", description="It drops every hour.")
    opening = store(subject_kind="ticket", object_id=ticket.pk, name="trace.txt", data=b"TRACE")
    reply = services.reply_to_ticket(
        ticket_id=ticket.pk, actor=ticket.assignee, body="Please send the log.", internal=False
    )
    note = services.reply_to_ticket(
        ticket_id=ticket.pk,
        actor=ticket.assignee,
        body="SECRET: customer is on the watch list",
        internal=True,
    )
    note_file = store(
        subject_kind="ticket",
        object_id=ticket.pk,
        message_id=note.pk,
        name="internal.txt",
        data=b"INTERNAL",
    )
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    answer = services.record_customer_reply(
        ticket_id=ticket.pk,
        body="Here it is.",
        channel="email",
        attachments=[IncomingAttachment("vpn.log", "text/plain", b"LOG")],
        contact_id=ticket.contact_id,
    )
    original = store(
        subject_kind="ticket",
        object_id=ticket.pk,
        message_id=answer.pk,
        name="original.eml",
        data=b"From: x",
        original=True,
    )
    other = open_ticket(desk, subject="Invoice missing", description="OTHER TICKET")
    other_file = store(subject_kind="ticket", object_id=other.pk, name="other.pdf", data=b"O")
    ticket.refresh_from_db()
    return {
        "ticket": ticket,
        "reply": reply,
        "note": note,
        "answer": answer,
        "opening_file": opening,
        "answer_file": Attachment.objects.get(message_id=answer.pk, original=False),
        "note_file": note_file,
        "original": original,
        "other": other,
        "other_file": other_file,
    }


def test_the_request_page_shows_the_public_conversation_only(
    desk: Any, conversation: dict[str, Any]
) -> None:
    ticket = conversation["ticket"]

    url = link_of(ticket)
    page = Client().get(url)

    html = page.content.decode()
    assert page.status_code == 200
    assert ticket.number in html and "VPN drops" in html
    assert "In progress" in html  # the ticket resumed when the customer answered
    order = [html.index(t) for t in ("It drops every hour.", "Please send the log.", "Here it is.")]
    assert order == sorted(order)
    assert "trace.txt" in html and "vpn.log" in html
    assert "Customer service" in html and "You" in html
    # random tokens (the signed link, CSRF, the form token) may spell anything: leave them out
    words = re.sub(r'name="(csrfmiddlewaretoken|form_token)" value="[^"]*"', "", html)
    words = words.replace(url.split("/")[-2], "")
    for secret in (
        "SECRET",
        "watch list",
        "internal.txt",
        "original.eml",
        "Invoice missing",
        "OTHER TICKET",
        "other.pdf",
        desk.team.name,
        ticket.assignee.username,
        "P2",
        "SLA",
        "due",
    ):
        assert secret not in words, secret
    assert 'id="reply-form"' in html
    assert_private(page)


def test_a_web_requests_page_shows_the_request_once_with_its_files(
    desk: Any, browser: Client
) -> None:
    files = [SimpleUploadedFile("jam.jpg", b"\xff\xd8photo", content_type="image/jpeg")]
    assert send_form(browser, {"attachments": files}).status_code == 303
    ticket = Ticket.objects.get()

    page = Client().get(link_of(ticket))

    html = page.content.decode()
    assert html.count("Every second page jams.") == 1
    assert html.count('class="message ') == 1
    file = Attachment.objects.get()
    assert f'href="{link_of(ticket)}files/{file.pk}/"' in html
    assert Client().get(f"{link_of(ticket)}files/{file.pk}/").status_code == 200


def test_an_agents_ticket_opens_with_its_description(desk: Any) -> None:
    """A ticket opened by an agent or the API has no first message: the description is the
    request; a reply of the customer moments later is not taken for one."""
    ticket = open_ticket(desk, description="Called in: the VPN drops.")
    services.record_customer_reply(ticket_id=ticket.pk, body="Also the printer.", channel="api")

    html = Client().get(link_of(ticket)).content.decode()

    assert html.count('class="message ') == 2
    assert html.index("Called in: the VPN drops.") < html.index("Also the printer.")


@pytest.mark.parametrize(
    ("status", "words"),
    [
        ("new", "Received"),
        ("pending_customer", "Waiting for your reply"),
        ("resolved", "Resolved"),
    ],
)
def test_the_status_is_in_words_a_customer_understands(desk: Any, status: str, words: str) -> None:
    ticket = open_ticket(desk)
    Ticket.objects.filter(pk=ticket.pk).update(status=status)

    html = Client().get(link_of(ticket)).content.decode()

    assert f"<strong>{words}</strong>" in html


def test_the_page_is_in_chinese_for_a_chinese_reader(desk: Any, conversation: Any) -> None:
    html = (
        Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get(link_of(conversation["ticket"])).content.decode()
    )
    assert 'lang="zh-hans"' in html
    assert "处理中" in html and "客户服务" in html and "回复" in html


def test_public_files_download_with_the_link(desk: Any, conversation: dict[str, Any]) -> None:
    ticket = conversation["ticket"]
    base = link_of(ticket)

    for key, content in (("opening_file", b"TRACE"), ("answer_file", b"LOG")):
        response: Any = Client().get(f"{base}files/{conversation[key].pk}/")
        assert response.status_code == 200, key
        assert b"".join(response.streaming_content) == content
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["X-Content-Type-Options"] == "nosniff"
        assert "sandbox" in response["Content-Security-Policy"]
        assert_private(response)


@pytest.mark.parametrize("key", ["other_file", "note_file", "original"])
def test_files_outside_the_public_conversation_are_not_found(
    desk: Any, conversation: dict[str, Any], key: str
) -> None:
    ticket = conversation["ticket"]

    response = Client().get(f"{link_of(ticket)}files/{conversation[key].pk}/")

    assert response.status_code == 404
    assert "File not found" in response.content.decode()
    assert_private(response)


def test_a_file_is_not_found_through_another_tickets_link(
    desk: Any, conversation: dict[str, Any]
) -> None:
    other_link = link_of(conversation["other"])
    response = Client().get(f"{other_link}files/{conversation['answer_file'].pk}/")
    assert response.status_code == 404
    missing = Client().get(f"{other_link}files/999999/")
    assert missing.status_code == 404


@pytest.mark.parametrize("mangle", ["tampered", "other-salt", "garbage", "other-contact"])
def test_a_link_that_is_not_ours_is_not_found(
    desk: Any, conversation: dict[str, Any], mangle: str
) -> None:
    ticket = conversation["ticket"]
    token = links.request_token(ticket_id=ticket.pk, contact_id=ticket.contact_id)
    if mangle == "tampered":
        token = links.request_token(ticket_id=ticket.pk + 1, contact_id=ticket.contact_id)
        token = token.split(":")[0] + ":" + token.split(":", 1)[1][::-1]
    elif mangle == "other-salt":
        token = signing.dumps([ticket.pk, ticket.contact_id], salt="kefu.surveys", compress=False)
    elif mangle == "garbage":
        token = "A" * 40
    else:
        stranger: Any = ContactFactory(email="stranger@example.com")
        token = links.request_token(ticket_id=ticket.pk, contact_id=stranger.pk)

    for url in (f"/help/requests/{token}/", f"/help/requests/{token}/files/1/"):
        response = Client().get(url)
        html = response.content.decode()
        assert response.status_code == 404, url
        assert "VPN drops" not in html and ticket.number not in html
        assert_private(response)


def test_a_contact_who_wrote_on_the_ticket_may_follow_it(
    desk: Any, conversation: dict[str, Any]
) -> None:
    ticket = conversation["ticket"]
    colleague: Any = ContactFactory(
        customer=desk.customer, email="colleague@example.com", name="Wei"
    )
    services.record_customer_reply(
        ticket_id=ticket.pk, body="Same here", channel="email", contact_id=colleague.pk
    )

    mine = Client().get(link_of(ticket)).content.decode()
    theirs = Client().get(link_of(ticket, colleague.pk))

    assert "Wei" in mine and "Same here" in mine
    assert theirs.status_code == 200


def test_an_expired_link_offers_a_new_one(desk: Any, conversation: dict[str, Any]) -> None:
    ticket = conversation["ticket"]

    page = Client().get(f"/help/requests/{expired_link(ticket)}/")

    html = page.content.decode()
    assert page.status_code == 410
    assert "This link has expired" in html
    assert 'id="renew-form"' in html
    assert "VPN drops" not in html and "Here it is." not in html
    assert_private(page)
    files = Client().get(
        f"/help/requests/{expired_link(ticket)}/files/{conversation['answer_file'].pk}/"
    )
    assert files.status_code == 404


# --- replies ----------------------------------------------------------------------------
def reply(browser: Client, ticket: Ticket, body: str, files: list[Any] | None = None) -> Any:
    url = link_of(ticket)
    csrf, token = open_form(browser, url)
    data: dict[str, Any] = {"csrfmiddlewaretoken": csrf, "form_token": token, "body": body}
    if files:
        data["attachments"] = files
    return browser.post(url, data)


def test_a_reply_with_a_file_resumes_a_waiting_ticket(desk: Any, browser: Client) -> None:
    ticket = open_ticket(desk)
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)

    answer = reply(
        browser,
        ticket,
        "The serial is 1234.",
        [SimpleUploadedFile("label.png", b"\x89PNG", content_type="image/png")],
    )

    assert answer.status_code == 303
    assert answer["Location"].startswith("/help/requests/")
    assert answer["Location"].endswith("/?sent=1#latest")
    ticket.refresh_from_db()
    assert ticket.status == "open"
    message = TicketMessage.objects.get(ticket=ticket)
    assert (message.body, message.channel, message.contact_id, message.internal) == (
        "The serial is 1234.",
        "web",
        ticket.contact_id,
        False,
    )
    stored = Attachment.objects.get(subject_kind="ticket", object_id=ticket.pk)
    assert (stored.message_id, stored.name) == (message.pk, "label.png")
    page = browser.get(answer["Location"]).content.decode()
    assert "Your message was added to your request." in page
    assert "The serial is 1234." in page and "label.png" in page


def test_a_reply_reopens_a_resolved_ticket(desk: Any, browser: Client) -> None:
    ticket = open_ticket(desk)
    services.resolve_ticket(ticket_id=ticket.pk, actor=ticket.assignee, resolution="rebooted")
    assert "Writing here opens your request again." in browser.get(link_of(ticket)).content.decode()

    assert reply(browser, ticket, "Still broken").status_code == 303

    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_the_same_reply_sent_twice_is_one_message(desk: Any, browser: Client) -> None:
    ticket = open_ticket(desk)
    url = link_of(ticket)
    csrf, token = open_form(browser, url)
    data = {"csrfmiddlewaretoken": csrf, "form_token": token, "body": "Once"}

    first, second = browser.post(url, data), browser.post(url, data)

    assert (first.status_code, second.status_code) == (303, 303)
    assert TicketMessage.objects.filter(ticket=ticket).count() == 1


def test_a_reply_token_of_another_ticket_is_refused(desk: Any, browser: Client) -> None:
    ticket, other = open_ticket(desk), open_ticket(desk, subject="Other")
    csrf, token = open_form(browser, link_of(other))

    answer = browser.post(
        link_of(ticket), {"csrfmiddlewaretoken": csrf, "form_token": token, "body": "Hi"}
    )

    assert answer.status_code == 400
    assert "Hi</textarea>" in answer.content.decode()
    assert TicketMessage.objects.count() == 0


@pytest.mark.parametrize("files", [False, True])
def test_an_empty_or_refused_reply_changes_nothing(
    desk: Any, browser: Client, settings: Any, files: bool
) -> None:
    ticket = open_ticket(desk)
    services.put_on_hold(ticket_id=ticket.pk, actor=ticket.assignee)
    settings.KEFU_ATTACHMENT_MAX_BYTES = 3
    attachments = [SimpleUploadedFile("big.txt", b"1234", "text/plain")] if files else None

    answer = reply(browser, ticket, "   " if not files else "see file", attachments)

    html = answer.content.decode()
    assert answer.status_code == 400
    if files:
        assert "big.txt is too large" in html and "see file</textarea>" in html
    else:
        assert "Write a message or attach a file." in html
    ticket.refresh_from_db()
    assert ticket.status == "pending_customer"
    assert TicketMessage.objects.count() == 0
    assert Attachment.objects.count() == 0


def test_a_reply_past_the_reopen_window_points_to_the_form(desk: Any, browser: Client) -> None:
    ticket = open_ticket(desk)
    url = link_of(ticket)
    csrf, token = open_form(browser, url)
    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)
    Task.objects.filter(
        process__ticketprocess__ticket=ticket, flow_task_type="TIMER", status=STATUS.SCHEDULED
    ).update(scheduled=timezone.now() - timedelta(seconds=1))
    dispatcher.drain()

    answer = browser.post(url, {"csrfmiddlewaretoken": csrf, "form_token": token, "body": "Hi"})

    html = answer.content.decode()
    assert answer.status_code == 409
    assert "This request was closed too long ago to be opened again." in html
    assert 'href="/help/"' in html
    assert 'id="reply-form"' not in html
    assert TicketMessage.objects.count() == 0
    page = browser.get(url).content.decode()
    assert "Closed" in page and 'id="reply-form"' not in page


def test_a_closed_ticket_within_its_window_takes_a_reply(desk: Any, browser: Client) -> None:
    ticket = open_ticket(desk)
    services.close_ticket(ticket_id=ticket.pk, actor=ticket.assignee)

    assert reply(browser, ticket, "One more thing").status_code == 303

    ticket.refresh_from_db()
    assert ticket.status == "open"


def test_replies_are_throttled(desk: Any, settings: Any) -> None:
    settings.KEFU_HELP_THROTTLE = "1/hour"
    ticket = open_ticket(desk)
    client = Client(REMOTE_ADDR="203.0.113.20")
    assert reply(client, ticket, "first").status_code == 303
    limited = reply(client, ticket, "second")
    assert limited.status_code == 429 and "Retry-After" in limited
    assert TicketMessage.objects.count() == 1


# --- a new link by email ------------------------------------------------------------------
def main_of(html: str) -> str:
    match = re.search(r"<main.*</main>", html, re.S)
    assert match is not None
    return match.group(0)


def renew(client: Client, ticket: Ticket, email: str) -> Any:
    url = f"/help/requests/{expired_link(ticket)}/"
    client.get(url)
    return client.post(
        f"{url}renew/", {"email": email, "csrfmiddlewaretoken": client.cookies["csrftoken"].value}
    )


def test_the_requests_contact_gets_a_new_link(desk: Any, browser: Client) -> None:
    ticket = open_ticket(desk)

    answer = renew(browser, ticket, "LI.LEI@example.com")

    assert answer.status_code == 200
    assert "If this address belongs to the request, a new link is on its way." in (
        answer.content.decode()
    )
    mail = OutboxMessage.objects.get(kind=LINK_REQUESTED)
    assert mail.to == desk.contact.email
    assert mail.discard_body
    assert ticket.number in mail.subject
    link = re.search(r"/help/requests/[^/\s]+/", mail.body_text)
    assert link is not None
    fresh = Client().get(link.group(0))
    assert fresh.status_code == 200 and ticket.number in fresh.content.decode()


@pytest.mark.parametrize("email", ["someone.else@example.com", "li.lei@example.org"])
def test_another_address_gets_the_same_answer_and_no_email(
    desk: Any, browser: Client, email: str
) -> None:
    ticket = open_ticket(desk)
    genuine = renew(Client(enforce_csrf_checks=True), ticket, desk.contact.email)
    OutboxMessage.objects.filter(kind=LINK_REQUESTED).delete()

    answer = renew(browser, ticket, email)

    assert answer.status_code == genuine.status_code == 200
    assert main_of(answer.content.decode()) == main_of(genuine.content.decode())
    assert not OutboxMessage.objects.filter(kind=LINK_REQUESTED).exists()


def test_a_bad_address_is_refused_and_a_forged_link_is_not_found(
    desk: Any, browser: Client
) -> None:
    ticket = open_ticket(desk)
    bad = renew(browser, ticket, "nope")
    assert bad.status_code == 400
    assert "Enter a valid email address." in bad.content.decode()
    forged = browser.post(
        "/help/requests/" + "A" * 30 + "/renew/",
        {"email": desk.contact.email, "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )
    assert forged.status_code == 404
    assert not OutboxMessage.objects.filter(kind=LINK_REQUESTED).exists()


def test_one_address_gets_at_most_a_few_automatic_emails_an_hour(desk: Any, settings: Any) -> None:
    """The pages are open to anyone and the mailbox is someone's: link emails are automatic
    mail, held to ``KEFU_AUTO_REPLY_LIMIT`` per address per hour whoever asks."""
    settings.KEFU_AUTO_REPLY_LIMIT = 2
    tickets = [open_ticket(desk, subject=f"t{n}", acknowledge=False) for n in range(4)]

    answers = [
        renew(Client(REMOTE_ADDR=f"198.51.100.{n}"), ticket, desk.contact.email)
        for n, ticket in enumerate(tickets)
    ]

    assert [a.status_code for a in answers] == [200] * 4
    assert len({main_of(a.content.decode()) for a in answers}) == 1
    assert OutboxMessage.objects.filter(kind=LINK_REQUESTED).count() == 2


def test_finding_requests_emails_a_link_to_each_open_one(
    desk: Any, browser: Client, settings: Any
) -> None:
    # the acknowledgements and notices of the setup are automatic mail to the same address
    settings.KEFU_AUTO_REPLY_LIMIT = 50
    waiting = open_ticket(desk, subject="Waiting")
    services.put_on_hold(ticket_id=waiting.pk, actor=waiting.assignee)
    fresh = open_ticket(desk, subject="Fresh")
    closed = open_ticket(desk, subject="Closed one")
    services.close_ticket(ticket_id=closed.pk, actor=closed.assignee)
    open_ticket(
        desk, subject="Someone else's", contact_id=Contact.objects.create(email="x@example.com").pk
    )
    browser.get("/help/requests/")

    answer = browser.post(
        "/help/requests/",
        {"email": "Li.Lei@example.com", "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )

    assert answer.status_code == 200
    assert "If this address has open requests with us" in answer.content.decode()
    mails = OutboxMessage.objects.filter(kind=LINK_REQUESTED)
    numbers = sorted(re.findall(r"T-\d{4}-\d+", " ".join(m.subject for m in mails)))
    assert numbers == sorted([waiting.number, fresh.number])
    assert {m.to for m in mails} == {desk.contact.email}


def test_finding_requests_of_an_unknown_address_answers_the_same(
    desk: Any, browser: Client
) -> None:
    browser.get("/help/requests/")
    answer = browser.post(
        "/help/requests/",
        {"email": "nobody@example.com", "csrfmiddlewaretoken": browser.cookies["csrftoken"].value},
    )
    assert answer.status_code == 200
    assert "If this address has open requests with us" in answer.content.decode()
    assert not OutboxMessage.objects.filter(kind=LINK_REQUESTED).exists()
    assert_private(answer)


def test_the_request_link_never_reaches_the_logs() -> None:
    from project.log_secrets import redact

    token = links.request_token(ticket_id=12, contact_id=34)
    line = f'"GET /help/requests/{token}/files/5/ HTTP/1.1" 200'
    assert token not in redact(line)
    assert "/help/requests/[redacted]/files/5/" in redact(line)
