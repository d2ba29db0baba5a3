"""Two screens over Django's test client: "Not a duplicate" on the side-by-side review and
the "Not duplicates" tab that undoes it (docs/customers-merge.md); a contact's further emails
and phones on its edit page, added and removed by plain form posts
(docs/customers-records.md)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from audit.models import AuditEvent
from customers.models import ContactPoint, DismissedPair
from tests.factories import (
    AgentFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
    SupervisorFactory,
    build_desk,
    open_ticket,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards() -> Any:
    yield
    translation.deactivate()


def logged_in(user: Any) -> Client:
    client = Client()
    client.force_login(user)
    return client


def state() -> tuple[Any, ...]:
    return (
        list(DismissedPair.objects.order_by("pk").values()),
        list(ContactPoint.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


# --- not a duplicate ---------------------------------------------------------------------
def test_not_a_duplicate_from_the_review_and_undone_from_the_tab() -> None:
    supervisor: Any = SupervisorFactory()
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei", email="li@example.com")
    b: Any = ContactFactory(customer=acme, name="Lei Li", email="lei@example.com")
    browser = logged_in(supervisor)
    review = f"/customers/duplicates/contacts/{a.pk}/{b.pk}/"
    page = browser.get(review).content.decode()
    assert 'id="not-duplicate-button"' in page
    assert f'action="{review}dismiss/"' in page

    done = browser.post(f"{review}dismiss/", {"reason": "Two people"})
    assert done.status_code == 303 and done["Location"] == "/customers/duplicates/?tab=contacts"
    pair = DismissedPair.objects.get()
    assert (pair.low_id, pair.high_id, pair.reason) == (a.pk, b.pk, "Two people")
    listing = browser.get("/customers/duplicates/?tab=contacts").content.decode()
    assert f'data-a="{a.pk}"' not in listing
    assert "Marked as not a duplicate." in listing  # the flash
    # a second post (a double click) is the same as one
    assert browser.post(f"{review}dismiss/").status_code == 303
    assert DismissedPair.objects.count() == 1

    # the review shows the mark and offers to undo it
    page = browser.get(review).content.decode()
    assert 'id="dismissed-note"' in page and 'id="not-duplicate-button"' not in page

    tab = browser.get("/customers/duplicates/?tab=dismissed").content.decode()
    assert f'data-id="{pair.pk}"' in tab and "Two people" in tab and "Li Lei" in tab
    restored = browser.post(f"/customers/duplicates/dismissed/{pair.pk}/restore/")
    assert restored.status_code == 303
    assert restored["Location"] == "/customers/duplicates/?tab=dismissed"
    assert not DismissedPair.objects.exists()
    assert f'data-a="{a.pk}"' in browser.get("/customers/duplicates/").content.decode()
    # undoing twice says so and changes nothing
    before = state()
    again = browser.post(f"/customers/duplicates/dismissed/{pair.pk}/restore/", follow=True)
    assert "This pair is not marked as not a duplicate." in again.content.decode()
    assert state() == before


def test_not_a_duplicate_in_chinese() -> None:
    supervisor: Any = SupervisorFactory()
    one: Any = CustomerFactory(name="Acme")
    two: Any = CustomerFactory(name="ACME")
    browser = logged_in(supervisor)
    browser.cookies["django_language"] = "zh-hans"
    page = browser.get(
        f"/customers/duplicates/customers/{one.pk}/{two.pk}/", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "不是重复" in page
    tab = browser.get(
        "/customers/duplicates/?tab=dismissed", HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).content.decode()
    assert "非重复" in tab


def test_who_may_not_merge_may_not_dismiss_on_screen() -> None:
    admin_pair: Any = SupervisorFactory()
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei")
    b: Any = ContactFactory(customer=acme, name="Li Lei")
    logged_in(admin_pair).post(f"/customers/duplicates/contacts/{a.pk}/{b.pk}/dismiss/")
    pair = DismissedPair.objects.get()
    before = state()
    for user in (AgentFactory(), MarketingFactory()):
        browser = logged_in(user)
        assert browser.get("/customers/duplicates/?tab=dismissed").status_code == 403
        answer = browser.post(f"/customers/duplicates/contacts/{a.pk}/{b.pk}/dismiss/")
        assert answer.status_code == 403
        assert browser.post(f"/customers/duplicates/dismissed/{pair.pk}/restore/").status_code == (
            403
        )
    assert state() == before


# --- further emails and phones -----------------------------------------------------------
def test_points_are_added_normalised_and_removed_with_audit_rows() -> None:
    desk = build_desk()
    open_ticket(desk)  # the agent sees the contact through the ticket
    contact = desk.contact
    browser = logged_in(desk.agent1)
    edit = f"/contacts/{contact.pk}/edit/"
    page = browser.get(edit).content.decode()
    assert 'id="point-form"' in page and 'id="points-empty"' in page

    added = browser.post(
        f"/contacts/{contact.pk}/points/", {"kind": "phone", "value": "137 0000 1111"}
    )
    assert added.status_code == 303 and added["Location"] == f"{edit}#points"
    phone = ContactPoint.objects.get(contact=contact)
    assert (phone.kind, phone.value) == ("phone", "+8613700001111")
    browser.post(
        f"/contacts/{contact.pk}/points/",
        {"kind": "email", "value": " Li.Work@Example.COM ", "label": "work"},
    )
    email = ContactPoint.objects.get(contact=contact, kind="email")
    assert (email.value, email.label) == ("li.work@example.com", "work")
    page = browser.get(edit).content.decode()
    assert 'value="+8613700001111"' in page and "+86 137 0000 1111" in page
    assert "li.work@example.com" in page
    audited = AuditEvent.objects.filter(
        subject_kind="contact", contact_id=contact.pk, verb="changed"
    )
    assert audited.count() == 2
    assert audited.order_by("pk").last().after["points"] == [  # type: ignore[union-attr]
        {"kind": "email", "value": "li.work@example.com"},
        {"kind": "phone", "value": "+8613700001111"},
    ]

    removed = browser.post(f"/contacts/{contact.pk}/points/{phone.pk}/remove/")
    assert removed.status_code == 303
    assert list(ContactPoint.objects.filter(contact=contact)) == [email]
    assert audited.count() == 3
    # a second remove (a double click) says so and changes nothing
    before = state()
    again = browser.post(f"/contacts/{contact.pk}/points/{phone.pk}/remove/", follow=True)
    assert "This email or phone was removed already." in again.content.decode()
    assert state() == before


@pytest.mark.parametrize(
    ("kind", "value", "problem"),
    [
        ("phone", "12345", "This phone number is not valid."),
        ("phone", "call me", "This is not a phone number."),
        ("email", "li@", "Enter a valid email address."),
        ("email", "", "This field is required."),
        ("fax", "123", "Choose one of: email, phone."),
        ("email", "LI.LEI@example.com", "The contact already has this address or number."),
        ("phone", "+86 137 0000 2222", "The contact already has this address or number."),
    ],
)
def test_a_bad_or_duplicate_point_is_shown_beside_its_field_and_nothing_changes(
    kind: str, value: str, problem: str
) -> None:
    desk = build_desk()
    contact = desk.contact  # li.lei@example.com
    ContactPoint.objects.create(contact=contact, kind="phone", value="+8613700002222")
    browser = logged_in(desk.supervisor)
    before = state()
    answer = browser.post(f"/contacts/{contact.pk}/points/", {"kind": kind, "value": value})
    assert answer.status_code == 400
    body = answer.content.decode()
    assert problem in body
    assert f'value="{value}"' in body  # what was typed is kept
    assert state() == before


def test_points_of_a_contact_the_agent_may_not_see_are_404_and_unchanged() -> None:
    desk = build_desk()
    point = ContactPoint.objects.create(contact=desk.contact, kind="phone", value="+8613700002222")
    before = state()
    stranger = logged_in(AgentFactory())
    add = stranger.post(
        f"/contacts/{desk.contact.pk}/points/", {"kind": "email", "value": "a@b.cn"}
    )
    assert add.status_code == 404
    remove = stranger.post(f"/contacts/{desk.contact.pk}/points/{point.pk}/remove/")
    assert remove.status_code == 404
    marketing = logged_in(MarketingFactory())
    assert (
        marketing.post(
            f"/contacts/{desk.contact.pk}/points/", {"kind": "email", "value": "a@b.cn"}
        ).status_code
        == 403
    )
    assert state() == before
