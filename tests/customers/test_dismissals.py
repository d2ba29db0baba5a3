"""A pair marked "not a duplicate" and the mark undone (docs/customers-merge.md): the
service's checks, its audit rows, idempotence, and the finder leaving the pair out."""

from __future__ import annotations

from typing import Any

import pytest

from audit.models import AuditEvent
from core.errors import Conflict, Forbidden, InvalidInput, NotFound
from customers.models import DismissedPair
from customers.selectors.duplicates import contact_pairs, customer_pairs, dismissed_pairs
from customers.services.duplicates import dismiss_pair, restore_pair
from customers.services.merge import merge_contacts, undo_merge
from tests.factories import (
    AdministratorFactory,
    AgentFactory,
    AnalystFactory,
    ContactFactory,
    CustomerFactory,
    MarketingFactory,
    SupervisorFactory,
)
from tests.factories.complaints import ManagerFactory

pytestmark = pytest.mark.django_db


def pairs(page: Any) -> set[tuple[int, int]]:
    return {(p.a, p.b) for p in page.pairs}


def key(a: Any, b: Any) -> tuple[int, int]:
    return (min(a.pk, b.pk), max(a.pk, b.pk))


def state() -> tuple[Any, ...]:
    return (
        list(DismissedPair.objects.order_by("pk").values()),
        AuditEvent.objects.count(),
    )


@pytest.fixture
def twins() -> tuple[Any, Any]:
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Li Lei", email="li@example.com")
    b: Any = ContactFactory(customer=acme, name="Lei Li", email="lei@example.com")
    return a, b


def test_dismissing_a_pair_stores_it_in_order_and_audits_both_contacts(twins: Any) -> None:
    supervisor: Any = SupervisorFactory()
    a, b = twins
    assert key(a, b) in pairs(contact_pairs(supervisor))

    pair, created = dismiss_pair(supervisor, "contact", b.pk, a.pk, "  two   people ")

    assert created
    assert (pair.target, pair.low_id, pair.high_id) == ("contact", *key(a, b))
    assert (pair.reason, pair.actor_id) == ("two people", supervisor.pk)
    rows = AuditEvent.objects.filter(subject_kind="contact", verb="not_duplicate")
    assert sorted(rows.values_list("contact_id", flat=True)) == sorted([a.pk, b.pk])
    assert {r.customer_id for r in rows} == {a.customer_id}
    assert all(r.after["dismissal"] == pair.pk and r.actor_id == supervisor.pk for r in rows)
    assert key(a, b) not in pairs(contact_pairs(supervisor))
    assert [p.pk for p in dismissed_pairs(supervisor).items] == [pair.pk]


def test_dismissing_twice_changes_nothing_and_answers_the_same_dismissal(twins: Any) -> None:
    manager: Any = ManagerFactory()
    a, b = twins
    first, created = dismiss_pair(manager, "contact", a.pk, b.pk)
    before = state()
    again, created_again = dismiss_pair(manager, "contact", b.pk, a.pk, "another reason")
    assert created and not created_again
    assert again.pk == first.pk and again.reason == ""
    assert state() == before


def test_restoring_lists_the_pair_again_and_is_audited(twins: Any) -> None:
    admin: Any = AdministratorFactory()
    a, b = twins
    pair, _ = dismiss_pair(admin, "contact", a.pk, b.pk, "not the same")
    restored = restore_pair(admin, pair.pk)
    assert restored.pk == pair.pk and restored.reason == "not the same"
    assert not DismissedPair.objects.exists()
    assert key(a, b) in pairs(contact_pairs(admin))
    rows = AuditEvent.objects.filter(subject_kind="contact", verb="duplicate_restored")
    assert sorted(rows.values_list("contact_id", flat=True)) == sorted([a.pk, b.pk])
    before = state()
    with pytest.raises(NotFound):
        restore_pair(admin, pair.pk)
    assert state() == before
    # dismissed again after a restore: a new mark
    again, created = dismiss_pair(admin, "contact", a.pk, b.pk)
    assert created and again.pk != pair.pk


def test_customers_are_dismissed_apart_from_contacts() -> None:
    admin: Any = AdministratorFactory()
    one: Any = CustomerFactory(name="Acme Trading")
    two: Any = CustomerFactory(name="acme trading")
    three: Any = CustomerFactory(name="ACME-Trading")
    assert {key(one, two), key(one, three), key(two, three)} <= pairs(customer_pairs(admin))

    pair, created = dismiss_pair(admin, "customer", one.pk, two.pk)

    assert created and pair.target == "customer"
    left = pairs(customer_pairs(admin))
    assert key(one, two) not in left
    assert {key(one, three), key(two, three)} <= left
    audited = AuditEvent.objects.filter(subject_kind="customer", verb="not_duplicate")
    assert sorted(audited.values_list("customer_id", flat=True)) == sorted([one.pk, two.pk])
    # the same ids as contacts are another pair
    assert dismissed_pairs(admin, target="contact").items == []


@pytest.mark.parametrize("factory", [AgentFactory, MarketingFactory, AnalystFactory])
def test_a_role_that_may_not_merge_may_not_dismiss_nor_restore(twins: Any, factory: Any) -> None:
    a, b = twins
    pair, _ = dismiss_pair(AdministratorFactory(), "customer", *_customers())
    before = state()
    user: Any = factory()
    with pytest.raises(Forbidden):
        dismiss_pair(user, "contact", a.pk, b.pk)
    with pytest.raises(Forbidden):
        restore_pair(user, pair.pk)
    with pytest.raises(Forbidden):
        dismissed_pairs(user)
    assert state() == before


def _customers() -> tuple[int, int]:
    one: Any = CustomerFactory(name="Globex")
    two: Any = CustomerFactory(name="Globex Ltd")
    return one.pk, two.pk


def test_bad_requests_are_refused_and_change_nothing(twins: Any) -> None:
    admin: Any = AdministratorFactory()
    a, b = twins
    before = state()
    with pytest.raises(InvalidInput) as same:
        dismiss_pair(admin, "contact", a.pk, a.pk)
    assert "other" in same.value.errors
    with pytest.raises(InvalidInput) as kind:
        dismiss_pair(admin, "ticket", a.pk, b.pk)
    assert "target" in kind.value.errors
    with pytest.raises(InvalidInput) as long:
        dismiss_pair(admin, "contact", a.pk, b.pk, "x" * 501)
    assert "reason" in long.value.errors
    with pytest.raises(NotFound):
        dismiss_pair(admin, "contact", a.pk, 987654321)
    merge_contacts(admin, a, b, {})
    after_merge = state()
    with pytest.raises(Conflict):
        dismiss_pair(admin, "contact", a.pk, b.pk)
    assert state() == after_merge
    assert DismissedPair.objects.count() == len(before[0]) == 0


def test_a_merge_leaves_dismissals_alone_and_an_undo_finds_them_in_force() -> None:
    """Dismissals hold plain ids, not foreign keys: a merge moves every reference to the
    merged record, but never rewrites a dismissal into another pair."""
    admin: Any = AdministratorFactory()
    acme: Any = CustomerFactory(name="Acme")
    a: Any = ContactFactory(customer=acme, name="Zhang Wei")
    b: Any = ContactFactory(customer=acme, name="Zhang Wei")
    c: Any = ContactFactory(customer=acme, name="Zhang Wei")
    pair, _ = dismiss_pair(admin, "contact", a.pk, b.pk)
    log = merge_contacts(admin, c, b, {})
    pair.refresh_from_db()
    assert (pair.low_id, pair.high_id) == key(a, b)
    assert pairs(contact_pairs(admin)) == {key(a, c)}
    undo_merge(admin, log)
    assert pairs(contact_pairs(admin)) == {key(a, c), key(b, c)}
