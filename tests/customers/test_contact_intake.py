"""Which contact an intake by email address lands on (docs/tickets.md, "Intake details")."""

from __future__ import annotations

from typing import Any

import pytest

from customers.models import Contact
from customers.services import AmbiguousContact, find_or_create_contact, normalise_email
from tests.factories import ContactFactory, CustomerFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("li.lei@example.com", "li.lei@example.com"),
        ("  Li.Lei@EXAMPLE.com\n", "li.lei@example.com"),
        ("LI.LEI@Example.Com", "li.lei@example.com"),
    ],
)
def test_addresses_are_normalised(raw: str, normal: str) -> None:
    assert normalise_email(raw) == normal


def test_the_one_customer_contact_with_the_address_is_found_in_any_case() -> None:
    gold: Any = CustomerFactory(tier="gold")
    li: Any = ContactFactory(customer=gold, email="Li.Lei@Example.com")

    found = find_or_create_contact(email=" LI.LEI@example.COM ")

    assert found.pk == li.pk
    assert Contact.objects.count() == 1


def test_a_customerless_contact_does_not_shadow_a_customers_contact() -> None:
    walk_in = Contact.objects.create(customer=None, email="li.lei@example.com")
    li: Any = ContactFactory(customer=CustomerFactory(tier="gold"), email="li.lei@example.com")

    found = find_or_create_contact(email="Li.Lei@example.com")

    assert found.pk == li.pk != walk_in.pk


def test_an_unknown_address_creates_one_customerless_contact_then_reuses_it() -> None:
    first = find_or_create_contact(email=" Zhou.Min@Example.com ", name=" 周敏 ")
    again = find_or_create_contact(email="zhou.min@example.COM", name="someone else")

    assert first.pk == again.pk
    assert (first.customer_id, first.email, first.name) == (None, "zhou.min@example.com", "周敏")
    assert Contact.objects.count() == 1


def test_with_a_customer_its_contact_is_used_or_created_under_it() -> None:
    gold: Any = CustomerFactory(tier="gold")
    other: Any = CustomerFactory()
    li: Any = ContactFactory(customer=gold, email="li.lei@example.com")

    same = find_or_create_contact(email="LI.LEI@example.com", customer=gold)
    created = find_or_create_contact(email="LI.LEI@example.com", customer=other)

    assert same.pk == li.pk
    assert (created.customer_id, created.email) == (other.pk, "li.lei@example.com")
    assert Contact.objects.count() == 2


def test_an_address_shared_by_several_customers_is_not_guessed() -> None:
    first: Any = CustomerFactory()
    second: Any = CustomerFactory(tier="gold")
    ContactFactory(customer=second, email="shared@example.com")
    ContactFactory(customer=first, email="SHARED@example.com")
    Contact.objects.create(customer=None, email="shared@example.com")

    with pytest.raises(AmbiguousContact) as raised:
        find_or_create_contact(email="shared@example.com")

    assert raised.value.customer_ids == sorted([first.pk, second.pk])
    assert Contact.objects.count() == 3
    chosen = find_or_create_contact(email="shared@example.com", customer=second)
    assert chosen.customer_id == second.pk


def test_a_contact_created_meanwhile_is_returned_and_the_transaction_goes_on() -> None:
    """The race of two intakes creating one contact: the loser's insert meets the unique
    constraint, inserts nothing and raises nothing (no savepoint needed), and the read after
    it returns the winner's row."""
    from customers.services import _insert_unless_taken

    winner: Any = ContactFactory(customer=None, email="new.one@example.com")
    loser = Contact(customer=None, email="new.one@example.com", name="Late")

    assert _insert_unless_taken(loser) is False
    assert loser.pk is None
    assert find_or_create_contact(email="New.One@example.com").pk == winner.pk
    assert Contact.objects.count() == 1


def test_a_new_contact_is_stored_with_its_fields() -> None:
    created = find_or_create_contact(email="Wang.Fang@Example.com", name=" 王芳 ", phone=" 123 ")

    stored = Contact.objects.get(pk=created.pk)
    assert (stored.customer_id, stored.email, stored.name, stored.phone, stored.language) == (
        None,
        "wang.fang@example.com",
        "王芳",
        "123",
        "en",
    )
    assert stored.created_at == created.created_at
    assert not created._state.adding
