"""The customers screens over Django's test client: the list's search finds Chinese names
by any part, the filters, the 360 page's facts, contacts, consents, tiles and timeline, who
sees what (analysts masked, marketing without titles, agents 404 for others' customers),
both languages, and the contact page's audit of a read of personal data."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone, translation

from audit.models import AuditEvent
from customers.models import Consent, Contract, CustomField
from tests.factories import (
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
    build_desk,
    open_ticket,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    cache.clear()
    yield
    translation.deactivate()


def logged_in(user: Any, language: str | None = None) -> Client:
    client = Client()
    client.force_login(user)
    if language:
        client.cookies["django_language"] = language
    return client


def test_list_search_finds_chinese_names_by_any_part_and_filters() -> None:
    desk = build_desk()
    wang: Any = CustomerFactory(name="王芳贸易", tier="gold", region="华东", tags=["vip"])
    CustomerFactory(name="李雷科技", tier="standard", region="华北")
    client = logged_in(desk.supervisor)
    page = client.get("/customers/", {"q": "芳"}).content.decode()
    assert "王芳贸易" in page and "李雷科技" not in page
    assert f'href="/customers/{wang.pk}/"' in page
    by_tier = client.get("/customers/", {"tier": "gold"}).content.decode()
    assert "王芳贸易" in by_tier and "李雷科技" not in by_tier
    by_tag = client.get("/customers/", {"tag": "vip"}).content.decode()
    assert "王芳贸易" in by_tag and "李雷科技" not in by_tag
    wang.owner = desk.supervisor
    wang.save()
    mine = client.get("/customers/", {"mine": "1"}).content.decode()
    assert "王芳贸易" in mine and "李雷科技" not in mine
    bad = client.get("/customers/", {"tier": "bronze"})
    assert bad.status_code == 200 and 'id="filter-errors"' in bad.content.decode()


def test_list_pages_by_keyset() -> None:
    desk = build_desk()
    for i in range(30):
        CustomerFactory(name=f"Acme {i:02d}")
    client = logged_in(desk.supervisor)
    first = client.get("/customers/", {"q": "Acme"}).content.decode()
    assert "Acme 00" in first and "Acme 29" not in first
    import re

    match = re.search(r'id="page-next"', first)
    assert match is not None
    href = re.search(r'<a href="([^"]+)" id="page-next"', first)
    assert href is not None
    second = client.get(href.group(1).replace("&amp;", "&")).content.decode()
    assert "Acme 29" in second and "Acme 00" not in second


def test_an_agent_sees_customers_of_their_work_only() -> None:
    desk = build_desk()
    other: Any = CustomerFactory(name="Hidden Co")
    open_ticket(desk)
    client = logged_in(desk.agent1)
    assert desk.customer.name in client.get("/customers/").content.decode()
    assert "Hidden Co" not in client.get("/customers/").content.decode()
    assert client.get(f"/customers/{other.pk}/").status_code == 404
    assert client.get(f"/customers/{desk.customer.pk}/").status_code == 200
    assert Client().get("/customers/").status_code == 302


def test_360_page_shows_facts_contacts_consents_tiles_and_timeline() -> None:
    desk = build_desk()
    group: Any = CustomerFactory(name="Group Holdings")
    desk.customer.parent = group
    desk.customer.tags = ["vip", "华东"]
    desk.customer.region = "Shanghai"
    desk.customer.custom = {"segment_code": "A1"}
    desk.customer.save()
    CustomerFactory(name="Sub One", parent=desk.customer)
    CustomField.objects.create(
        target="customer",
        key="segment_code",
        label="Segment code",
        label_zh="细分代码",
        type="text",
    )
    desk.contact.phone = "+8613800138000"
    desk.contact.name = "Li Lei"
    desk.contact.save()
    Consent.objects.create(
        contact=desk.contact,
        purpose="marketing_email",
        granted=True,
        source="form",
        at=timezone.now(),
    )
    Contract.objects.create(
        customer=desk.customer,
        name="Support 2026",
        starts_on=timezone.localdate(),
        ends_on=timezone.localdate() + timedelta(days=30),
    )
    ticket = open_ticket(desk, subject="Printer on fire")
    html = logged_in(desk.supervisor).get(f"/customers/{desk.customer.pk}/").content.decode()
    for text in (
        "Shanghai",
        "vip",
        "Group Holdings",
        "Sub One",
        "Segment code",
        "A1",
        "Li Lei",
        "li.lei@example.com",
        "+86 138 0013 8000",
        "Support 2026",
        "Printer on fire",
        f'href="/tickets/{ticket.pk}/"',
        f'href="/customers/{desk.customer.pk}/edit/"',
        f'href="/contacts/new/?customer={desk.customer.pk}"',
        'class="consent granted"',
        'id="tile-work"',
        "customer-360.js",
    ):
        assert text in html, text
    assert 'data-kind="ticket"><strong>1</strong>' in html
    assert 'id="tile-contracts"><h2>Contracts ending</h2>\n    <p><strong>1</strong>' in html
    assert "<script>" not in html

    chinese = logged_in(desk.supervisor, "zh-hans").get(f"/customers/{desk.customer.pk}/")
    text = chinese.content.decode()
    assert "细分代码" in text and "时间线" in text


def test_marketing_sees_no_titles_and_analysts_see_masked_data() -> None:
    desk = build_desk()
    desk.contact.name = "Li Lei"
    desk.contact.save()
    open_ticket(desk, subject="Printer on fire")
    marketing = logged_in(MarketingFactory()).get(f"/customers/{desk.customer.pk}/")
    page = marketing.content.decode()
    assert marketing.status_code == 200
    assert "Printer on fire" not in page and "li.lei@example.com" in page
    assert "Ticket" in page
    analyst = logged_in(AnalystFactory()).get(f"/customers/{desk.customer.pk}/").content.decode()
    assert "Printer on fire" not in analyst
    assert "li.lei@example.com" not in analyst and "Li Lei" not in analyst and "***" in analyst
    contact = logged_in(AnalystFactory()).get(f"/contacts/{desk.contact.pk}/").content.decode()
    assert "li.lei@example.com" not in contact and "***" in contact


def test_contact_page_records_a_read_once_per_ten_minutes() -> None:
    desk = build_desk()
    open_ticket(desk)
    client = logged_in(desk.supervisor)
    viewed = AuditEvent.objects.filter(
        subject_kind="contact", verb="personal_data_viewed", contact=desk.contact
    )
    page = client.get(f"/contacts/{desk.contact.pk}/")
    assert page.status_code == 200
    assert "li.lei@example.com" in page.content.decode()
    assert 'id="timeline"' in page.content.decode()
    client.get(f"/contacts/{desk.contact.pk}/")
    assert viewed.count() == 1
    assert viewed.get().actor == desk.supervisor
    logged_in(desk.admin).get(f"/contacts/{desk.contact.pk}/")
    assert viewed.count() == 2
    # a masked read reveals nothing and is not recorded; an unseen contact is a 404
    logged_in(AnalystFactory()).get(f"/contacts/{desk.contact.pk}/")
    assert viewed.count() == 2
    stranger: Any = ContactFactory(customer=CustomerFactory())
    assert logged_in(AgentFactory()).get(f"/contacts/{stranger.pk}/").status_code == 404
    assert viewed.count() == 2


def test_list_and_contact_page_offer_what_each_role_may_do() -> None:
    desk = build_desk()
    CustomerFactory(name="王芳贸易", tier="gold")
    contact: Any = ContactFactory(customer=desk.customer)
    admin_list = logged_in(desk.supervisor).get("/customers/", {"tier": "gold"}).content.decode()
    assert 'id="new-customer"' in admin_list
    assert 'id="export-customers"' in admin_list
    assert '<input type="hidden" name="tier" value="gold">' in admin_list  # the filters go too
    analyst: Any = AnalystFactory()
    analyst_list = logged_in(analyst).get("/customers/").content.decode()
    assert 'id="new-customer"' not in analyst_list and 'id="export-customers"' in analyst_list
    marketing: Any = MarketingFactory()
    marketing_page = logged_in(marketing).get(f"/contacts/{contact.pk}/").content.decode()
    assert 'id="edit-contact"' not in marketing_page
    assert f'href="/contacts/{contact.pk}/consent/"' in marketing_page
    supervisor_page = logged_in(desk.supervisor).get(f"/contacts/{contact.pk}/").content.decode()
    assert f'href="/contacts/{contact.pk}/edit/"' in supervisor_page


def test_the_list_exports_what_it_shows() -> None:
    desk = build_desk()
    CustomerFactory(name="王芳贸易", tier="gold")
    CustomerFactory(name="李雷科技", tier="standard")
    client = logged_in(desk.supervisor)
    answer: Any = client.post("/exports/", {"target": "customers", "format": "csv", "tier": "gold"})
    body = b"".join(answer.streaming_content).decode("utf-8-sig")
    assert answer.status_code == 200
    assert "王芳贸易" in body and "李雷科技" not in body
