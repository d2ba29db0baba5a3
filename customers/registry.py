"""What the customers platform needs of the process apps, registered by them in
``AppConfig.ready()`` (customers imports no process app, docs/platform.md):

* ``customer_rule``: which customers a member of staff sees through their work (an agent
  sees the customers of the tickets and complaints they may see);
* ``personal_data``: each app's personal data about a contact, to export it for an access
  request and to anonymise it in place for an erasure (docs/customers.md, "Privacy").

Merges need no registration: every foreign key to a customer or a contact is found from
Django's model metadata (``customers.services.merge``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q

# user -> a condition on ``customers.Customer`` (the customers the user's work shows), or
# None when the rule grants nothing to this user.
CustomerRule = Callable[[Any], Q | None]


@dataclass(frozen=True)
class PersonalData:
    """One app's personal data about a contact.

    ``export(contact)``: everything the app holds about the contact, as JSON-ready data
    (a list of records), for the access request's export.
    ``erase(contact, placeholder)``: anonymises in place every personal value of the contact
    the app holds (names, addresses, numbers, free text the contact wrote), keeping the rows
    (counts and statistics stay right); returns how many rows it changed.
    ``held(contact)``: a reason the app must keep the data (an open dispute, say), or "".
    """

    name: str
    export: Callable[[Any], list[dict[str, Any]]]
    erase: Callable[[Any, str], int]
    held: Callable[[Any], str] | None = None


# user -> a condition on ``customers.Contact`` (walk-in contacts of the user's work).
ContactRule = Callable[[Any], Q | None]

_customer_rules: dict[str, CustomerRule] = {}
_contact_rules: dict[str, ContactRule] = {}
_personal_data: dict[str, PersonalData] = {}


def register_customer_rule(name: str, rule: CustomerRule) -> None:
    _customer_rules[name] = rule


def customer_rules() -> list[CustomerRule]:
    return list(_customer_rules.values())


def register_contact_rule(name: str, rule: ContactRule) -> None:
    _contact_rules[name] = rule


def contact_rules() -> list[ContactRule]:
    return list(_contact_rules.values())


def register_personal_data(data: PersonalData) -> None:
    _personal_data[data.name] = data


def personal_data() -> list[PersonalData]:
    return [_personal_data[name] for name in sorted(_personal_data)]
