"""Writes of customers and contacts."""

from __future__ import annotations

from django.db import IntegrityError, connections, router, transaction
from django.db.models import F, QuerySet
from django.db.models.constants import OnConflict
from django.db.models.functions import Lower
from django.db.models.sql import InsertQuery

from ..models import Contact, Customer

AMBIGUOUS_LIMIT = 10


class AmbiguousContact(Exception):
    """Contacts of several customers share the address; the caller must name the customer."""

    def __init__(self, email: str, customer_ids: list[int]) -> None:
        super().__init__(email)
        self.email = email
        self.customer_ids = customer_ids


def normalise_email(email: str) -> str:
    """The form addresses are stored and compared in: trimmed, lower case.

    The whole address is lowered, not only the domain: the unique constraints and the
    index of ``Contact`` are on ``Lower(email)``, and no mail system Kefu serves treats
    ``Li.Lei@`` and ``li.lei@`` as two people."""
    return email.strip().lower()


def contacts_with_email(email: str) -> QuerySet[Contact]:
    """Contacts whose address is ``email`` (already normalised), by the ``Lower(email)`` index."""
    return Contact.objects.alias(email_key=Lower("email")).filter(email_key=email)


def find_or_create_contact(
    *, email: str, name: str = "", phone: str = "", customer: Customer | None = None
) -> Contact:
    """Intake by email address: which contact a request comes from.

    * With ``customer``: that customer's contact with the address, created under the
      customer when it has none.
    * Without: the one customer's contact with the address (a customerless contact with
      the same address never shadows it); if contacts of several customers share it,
      ``AmbiguousContact`` (the caller passes ``customer``: a guess could put the ticket,
      its SLA and its history on the wrong customer, and nothing moves it back); if no
      customer has it, the customerless contact, created when absent.

    Never creates a customerless duplicate of a customer's contact. Race-safe: two intakes
    creating the same contact meet on a unique constraint and both return the winner's row.
    """
    email = normalise_email(email)
    if customer is None:
        # One read answers both questions: which customers' contacts have the address
        # (at most one contact per customer, constraint ``contact_email_unique_per_customer``)
        # and whether the customerless one exists (last, by ``nulls_last``).
        found = list(
            contacts_with_email(email).order_by(F("customer_id").asc(nulls_last=True), "pk")[
                : AMBIGUOUS_LIMIT + 2
            ]
        )
        owned = [c for c in found if c.customer_id is not None]
        if len({c.customer_id for c in owned}) > 1:
            ids = sorted({c.customer_id for c in owned if c.customer_id is not None})
            raise AmbiguousContact(email, ids[:AMBIGUOUS_LIMIT])
        if owned:
            return owned[0]
        existing = next((c for c in found if c.customer_id is None), None)
    else:
        existing = contacts_with_email(email).filter(customer=customer).first()
    if existing is not None:
        return existing
    contact = Contact(customer=customer, email=email, name=name.strip(), phone=phone.strip())
    if _insert_unless_taken(contact):
        return contact
    # Another intake created it between our read and write (it has committed: the unique
    # index made us wait for it), so a fresh read finds it.
    return contacts_with_email(email).filter(customer=customer).get()


def _insert_unless_taken(contact: Contact) -> bool:
    """Inserts ``contact`` unless a unique constraint says it exists (``ON CONFLICT DO
    NOTHING``): no savepoint to set and release, and the caller's transaction goes on after
    a lost race. True when inserted (its primary key set)."""
    opts = Contact._meta
    fields = [f for f in opts.local_concrete_fields if not f.primary_key]
    query = InsertQuery(Contact, on_conflict=OnConflict.IGNORE)
    query.insert_values(fields, [contact])
    db = router.db_for_write(Contact)
    compiler = query.get_compiler(using=db)
    compiler.returning_fields = [opts.pk]
    [(statement, params)] = compiler.as_sql()
    with connections[db].cursor() as cursor:
        cursor.execute(statement, params)
        row = cursor.fetchone()
    if row is None:
        return False
    contact.pk = row[0]
    contact._state.adding = False
    contact._state.db = db
    return True


def contact_for_sender(address: str, *, name: str = "", language: str = "") -> Contact:
    """The contact an email's sender stands for (``find_or_create_contact``), named after the
    display name when created, its language (when one of Kefu's) set only then. An address
    several customers share gives the customerless contact of that address: a guess could
    put the work, its SLA and its history on the wrong customer."""
    from ..choices import Language

    name = name.strip()[:200]
    existed = contacts_with_email(address).exists()
    try:
        contact = find_or_create_contact(email=address, name=name)
    except AmbiguousContact:
        contact = _customerless_contact(address, name)
    if not existed and language in Language.values and contact.language != language:
        contact.language = language
        contact.save(update_fields=["language", "updated_at"])
    return contact


def _customerless_contact(address: str, name: str) -> Contact:
    existing = contacts_with_email(address).filter(customer=None).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():  # a savepoint: a concurrent intake may create it first
            return Contact.objects.create(customer=None, email=address, name=name)
    except IntegrityError:
        return contacts_with_email(address).filter(customer=None).get()
