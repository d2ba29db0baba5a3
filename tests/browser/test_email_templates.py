"""An administrator customises a customer email in the Django admin: starts from the shipped
default, is refused a template that does not compile, saves a good one, and the next
acknowledgement uses it (docs/email.md, "Templates")."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.browser.conftest import STEP_TIMEOUT_MS, VIEWPORT, expect
from tests.browser.test_csp import refusals

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
def root(desk: Any) -> Any:
    from django.contrib.auth.models import User

    return User.objects.create_superuser("root", "root@example.com", "pw")


def admin_page(browser: Any, server: str) -> tuple[Any, Any]:
    context = browser.new_context(base_url=server, viewport=VIEWPORT, locale="en")
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/admin/login/?next=/admin/")
    page.fill("#id_username", "root")
    page.fill("#id_password", "pw")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return context, page


def test_customise_the_chinese_acknowledgement(
    browser: Any, server: str, api: Any, desk: Any, root: Any
) -> None:
    from mail.models import EmailTemplate
    from mail.outbound import default_source
    from outbox.models import OutboxMessage
    from tests.factories import ContactFactory

    default = default_source("ticket.acknowledged", "zh-hans")
    context, page = admin_page(browser, server)
    refused = refusals(page)
    try:
        page.goto("/admin/mail/emailtemplate/")
        row = page.locator("#email-defaults tr[data-event='ticket.acknowledged']")
        row.locator("a[data-language='zh-hans']").click()
        page.wait_for_url("**/admin/mail/emailtemplate/add/**")
        # the form starts from the shipped default
        expect(page.locator("#id_event")).to_have_value("ticket.acknowledged")
        expect(page.locator("#id_language")).to_have_value("zh-hans")
        expect(page.locator("#id_subject")).to_have_value(default["subject"])
        expect(page.locator("#id_body_text")).to_have_value(default["body_text"])

        # a template that does not compile is refused, with the reason, and nothing saved
        page.fill("#id_body_text", "{% if contact_name %}您好")
        page.click("input[name=_save]")
        error = page.locator(".field-body_text .errorlist")
        expect(error).to_contain_text("Plain-text body does not compile")
        expect(error).to_contain_text("endif")
        assert not EmailTemplate.objects.exists()

        edited = default["body_text"].replace(
            "如需补充内容", "我们通常在一个工作日内答复。\n\n如需补充内容"
        )
        page.fill("#id_body_text", edited)
        page.click("input[name=_save]")
        page.wait_for_url("**/admin/mail/emailtemplate/")
        expect(page.locator(".messagelist .success")).to_be_visible()
        expect(
            page.locator(
                "#email-defaults tr[data-event='ticket.acknowledged'] a[data-language='zh-hans']"
            )
        ).to_have_text("Edit your template")

        # the saved template opens with the shipped default beside it, to compare
        page.locator(
            "#email-defaults tr[data-event='ticket.acknowledged'] a[data-language='zh-hans']"
        ).click()
        page.wait_for_url("**/change/")
        expect(page.locator("#id_body_text")).to_have_value(
            re.compile("我们通常在一个工作日内答复。")
        )
        expect(page.locator(".kefu-default pre").nth(1)).to_contain_text("如需补充内容")
        assert refused == []  # the pages run under the Content-Security-Policy
    finally:
        context.close()

    saved = EmailTemplate.objects.get()
    assert (saved.event, saved.language) == ("ticket.acknowledged", "zh-hans")
    contact: Any = ContactFactory(customer=desk.customer, name="李娜", language="zh-hans")
    ticket = api.post(
        "/api/tickets/", {"subject": "发票丢失", "priority": "P2", "contact_id": contact.pk}
    )
    row = OutboxMessage.objects.get(kind="ticket.acknowledged", object_id=ticket["id"])
    assert "我们通常在一个工作日内答复。" in row.body_text
    assert row.subject == f"[{ticket['number']}] 发票丢失"
