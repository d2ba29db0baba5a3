"""The customer and contact forms in Chromium: a customer with a Chinese name, a contact
whose Chinese mobile number is typed as people write it (saved in E.164), and a bad email
address shown beside its field with nothing saved; a contact's further emails and phones
added and removed on its edit page (docs/customers-records.md)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from customers.models import Contact, ContactPoint, Customer
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


def test_further_emails_and_phones_on_the_contact_form(
    browser: Any, server: str, desk: Any
) -> None:
    """A phone typed as people write it is saved in E.164 and listed; an email is added; a
    point is removed; a bad number is shown beside its field and changes nothing."""
    contact = desk.contact
    page = login(browser, server, "supervisor", "pw")
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(str(error)))

    page.goto(f"/contacts/{contact.pk}/edit/")
    expect(page.locator("#points-empty")).to_be_visible()
    page.select_option("#point-kind", "phone")
    page.fill("#point-value", "137 0000 1111")
    page.click("#point-add")
    phone = page.locator("#point-list li[data-kind='phone'] .point-value")
    expect(phone).to_have_attribute("value", "+8613700001111")
    expect(phone).to_have_text("+86 137 0000 1111")
    expect(page.locator("#flash")).to_contain_text("Added +86 137 0000 1111.")

    page.select_option("#point-kind", "email")
    page.fill("#point-value", "Li.Lei@Work.example")
    page.fill("#point-label", "work")
    page.click("#point-add")
    email = page.locator("#point-list li[data-kind='email']")
    expect(email).to_contain_text("li.lei@work.example")
    expect(email).to_contain_text("(work)")
    assert sorted(ContactPoint.objects.filter(contact=contact).values_list("kind", "value")) == [
        ("email", "li.lei@work.example"),
        ("phone", "+8613700001111"),
    ]

    page.locator("#point-list li[data-kind='email'] button.remove").click()
    expect(page.locator("#flash")).to_contain_text("Removed li.lei@work.example.")
    expect(page.locator("#point-list li")).to_have_count(1)
    assert list(ContactPoint.objects.filter(contact=contact).values_list("value", flat=True)) == [
        "+8613700001111"
    ]

    page.select_option("#point-kind", "phone")
    page.fill("#point-value", "12345")
    page.click("#point-add")
    expect(page.locator("#point-value-problem")).to_have_text("This phone number is not valid.")
    expect(page.locator("#point-value")).to_have_value("12345")  # what was typed is kept
    expect(page.locator("#point-list li")).to_have_count(1)
    assert list(ContactPoint.objects.filter(contact=contact).values_list("value", flat=True)) == [
        "+8613700001111"
    ]
    assert problems == []
