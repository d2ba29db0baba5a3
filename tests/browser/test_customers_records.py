"""The customer and contact forms in Chromium: a customer with a Chinese name, a contact
whose Chinese mobile number is typed as people write it (saved in E.164), and a bad email
address shown beside its field with nothing saved (docs/customers-records.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from customers.models import Contact, Customer
from tests.browser.conftest import expect, login

pytestmark = [pytest.mark.browser, pytest.mark.postgres, pytest.mark.redis]


def test_new_customer_and_contact_forms(browser: Any, server: str, desk: Any) -> None:
    page = login(browser, server, "supervisor", "pw")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto("/customers/new/")
    page.fill("#customer-name", "华为技术有限公司")
    page.select_option("#customer-tier", "gold")
    page.fill("#customer-tags", "VIP, 深圳")
    page.click("#customer-form button[type=submit]")
    page.wait_for_url(re.compile(r"/customers/\d+/$"))
    customer = Customer.objects.get(name="华为技术有限公司")
    assert page.url.endswith(f"/customers/{customer.pk}/")
    assert (customer.tier, customer.tags) == ("gold", ["vip", "深圳"])

    page.goto(f"/contacts/new/?customer={customer.pk}")
    expect(page.locator("#contact-customer")).to_have_value(str(customer.pk))
    page.fill("#contact-name", "李雷")
    page.fill("#contact-email", "Li.Lei@Huawei.example")
    page.fill("#contact-phone", "138 0013 8000")
    page.click("#contact-form button[type=submit]")
    page.wait_for_url(f"**/customers/{customer.pk}/")
    contact = Contact.objects.get(customer=customer)
    assert (contact.name, contact.email, contact.phone) == (
        "李雷",
        "li.lei@huawei.example",
        "+8613800138000",
    )

    page.goto(f"/contacts/new/?customer={customer.pk}")
    page.fill("#contact-name", "韩梅梅")
    page.fill("#contact-email", "han@")
    page.click("#contact-form button[type=submit]")
    expect(page.locator("#contact-email-problem")).to_have_text("Enter a valid email address.")
    expect(page.locator("#contact-name")).to_have_value("韩梅梅")  # what was typed is kept
    assert list(Contact.objects.filter(customer=customer).values_list("name", flat=True)) == [
        "李雷"
    ]

    page.goto(f"/contacts/{contact.pk}/edit/")
    expect(page.locator("#contact-phone")).to_have_value("+86 138 0013 8000")
    assert problems == []
