"""Likely duplicate contacts and customers (docs/customers-merge.md)."""

from __future__ import annotations

from typing import Any

import pytest

from core.errors import Forbidden
from customers.models import ContactPoint
from customers.selectors.duplicates import contact_pairs, customer_pairs
from customers.services.duplicates import dismiss_pair
from customers.services.merge import merge_contacts
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
)

pytestmark = pytest.mark.django_db


def pairs(page: Any) -> dict[tuple[int, int], list[str]]:
    return {(p.a, p.b): p.reasons for p in page.pairs}


def key(a: Any, b: Any) -> tuple[int, int]:
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def test_contacts_sharing_an_address_a_number_or_a_name_are_paired_with_reasons() -> None:
    admin: Any = AdministratorFactory()
    acme: Any = CustomerFactory(name="Acme")
    other: Any = CustomerFactory(name="Other")
    a: Any = ContactFactory(customer=acme, email="li.lei@example.com", name="Li Lei")
    b: Any = ContactFactory(customer=other, email="", name="Someone", phone="+8613800138000")
    ContactPoint.objects.create(contact=b, kind="email", value="li.lei@example.com")
    c: Any = ContactFactory(customer=other, email="c@example.com", name="Wang", phone="")
    ContactPoint.objects.create(contact=c, kind="phone", value="+8613800138000")
    d: Any = ContactFactory(customer=acme, email="d@example.com", name="lei  li.")
    e: Any = ContactFactory(customer=acme, email="e@example.com", name="王 芳")
    f: Any = ContactFactory(customer=acme, email="f@example.com", name="王芳")
    g: Any = ContactFactory(customer=acme, email="g@example.com", name="芳 王")
    h: Any = ContactFactory(customer=other, email="h@example.com", name="Li Lei")  # other customer
    i: Any = ContactFactory(customer=acme, email="i@example.com", name="LiLei")

    found = pairs(contact_pairs(admin, limit=100))

    assert found[key(a, b)] == ["email"]
    assert found[key(b, c)] == ["phone"]
    assert found[key(a, d)] == ["name"]  # "Li Lei" = "lei  li." (Latin words sorted)
    assert found[key(e, f)] == ["name"]  # spaces set aside
    assert key(e, g) not in found and key(f, g) not in found  # Chinese words not reordered
    assert key(a, h) not in found  # same name, another customer
    assert found[key(a, i)] == ["name"]
    assert key(a, c) not in found


def test_merged_contacts_are_left_out_and_pages_follow_each_other() -> None:
    admin: Any = AdministratorFactory()
    acme: Any = CustomerFactory(name="Acme")
    people: list[Any] = [ContactFactory(customer=acme, name="Zhang Wei") for _ in range(4)]
    first = contact_pairs(admin, limit=4)
    assert len(first.pairs) == 4 and first.next is not None
    second = contact_pairs(admin, cursor=first.next, limit=4)
    assert len(second.pairs) == 2 and second.next is None
    assert not set(pairs(first)) & set(pairs(second))

    merge_contacts(admin, people[0], people[1], {})
    left = pairs(contact_pairs(admin, limit=100))
    assert all(people[1].pk not in pair for pair in left)
    assert len(left) == 3


def test_customers_with_one_name_or_external_id_are_paired_but_not_by_email_domain() -> None:
    admin: Any = AdministratorFactory()
    a: Any = CustomerFactory(name="Acme Trading Co.", external_id="CRM-0042")
    b: Any = CustomerFactory(name="acme trading co", external_id="")
    c: Any = CustomerFactory(name="Globex", external_id="crm0042")
    d: Any = CustomerFactory(name="Initech")
    e: Any = CustomerFactory(name="Umbrella")
    ContactFactory(customer=d, email="x@shared.example")
    ContactFactory(customer=e, email="y@shared.example")

    found = pairs(customer_pairs(admin, limit=100))

    assert found[key(a, b)] == ["name"]
    assert found[key(a, c)] == ["external_id"]
    assert key(d, e) not in found


def test_only_those_who_merge_review_duplicates() -> None:
    for user in (AgentFactory(), MarketingFactory()):
        with pytest.raises(Forbidden):
            contact_pairs(user)
        with pytest.raises(Forbidden):
            customer_pairs(user)


def test_the_embedded_modes_pairing_in_python_finds_what_the_sql_finds() -> None:
    """SQLite (``make run``) pairs in Python: on the same records it must find the same
    pairs, for the same reasons, as PostgreSQL's SQL — and leave out the same dismissed
    pairs."""
    from customers.selectors import duplicates

    admin: Any = AdministratorFactory()
    acme: Any = CustomerFactory(name="Acme Trading Ltd", external_id="CRM-0042")
    acme_too: Any = CustomerFactory(name="acme trading ltd.", external_id="crm0042")
    trading: Any = CustomerFactory(name="Trading Acme Ltd")
    CustomerFactory(name="上海云桥科技有限公司")
    CustomerFactory(name="上海云桥科技 有限公司")
    li: Any = ContactFactory(customer=acme, email="li.lei@example.com", name="Li Lei", phone="")
    lei: Any = ContactFactory(customer=acme, email="lei.li@example.com", name="Lei, Li", phone="")
    ContactFactory(customer=acme, email="wf@example.com", name="王芳", phone="+8613800138000")
    twin: Any = ContactFactory(customer=acme, email="w2@example.com", name="王 芳", phone="")
    ContactPoint.objects.create(contact=twin, kind="phone", value="+8613800138000")
    ContactPoint.objects.create(contact=twin, kind="email", value="LI.LEI@example.com")

    sql_contacts = pairs(contact_pairs(admin, limit=100))
    sql_customers = pairs(customer_pairs(admin, limit=100))
    python_contacts = pairs(duplicates._python_pairs(duplicates._contact_keys(), None, 100))
    python_customers = pairs(duplicates._python_pairs(duplicates._customer_keys(), None, 100))

    assert len(sql_contacts) == 3 and len(sql_customers) == 4
    assert python_contacts == sql_contacts
    assert python_customers == sql_customers

    dismiss_pair(admin, "contact", lei.pk, li.pk)
    dismiss_pair(admin, "customer", acme.pk, trading.pk)
    dismiss_pair(admin, "customer", acme_too.pk, trading.pk)
    sql_contacts = pairs(contact_pairs(admin, limit=100))
    sql_customers = pairs(customer_pairs(admin, limit=100))
    python_contacts = pairs(
        duplicates._python_pairs(
            duplicates._contact_keys(), None, 100, duplicates._dismissed("contact")
        )
    )
    python_customers = pairs(
        duplicates._python_pairs(
            duplicates._customer_keys(), None, 100, duplicates._dismissed("customer")
        )
    )
    assert key(li, lei) not in sql_contacts and key(acme, trading) not in sql_customers
    assert len(sql_contacts) == 2 and len(sql_customers) == 2
    assert python_contacts == sql_contacts
    assert python_customers == sql_customers


@pytest.mark.postgres
def test_dismissed_pairs_are_left_out_by_the_sql_and_pages_still_follow() -> None:
    from django.db import connection

    assert connection.vendor == "postgresql"
    admin: Any = AdministratorFactory()
    acme: Any = CustomerFactory(name="Acme")
    people: list[Any] = [ContactFactory(customer=acme, name="Zhang Wei") for _ in range(4)]
    everyone = pairs(contact_pairs(admin, limit=100))
    assert len(everyone) == 6
    dismissed = {key(people[0], people[1]), key(people[2], people[3])}
    for a, b in dismissed:
        dismiss_pair(admin, "contact", a, b)
    first = contact_pairs(admin, limit=2)
    second = contact_pairs(admin, cursor=first.next, limit=2)
    assert len(first.pairs) == 2 and first.next is not None
    assert len(second.pairs) == 2 and second.next is None
    assert set(pairs(first)) | set(pairs(second)) == set(everyone) - dismissed
