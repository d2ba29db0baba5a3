"""Writes of customers and contacts."""

from __future__ import annotations

from django.db import IntegrityError, transaction

from .models import Contact, Customer


def find_or_create_contact(
    *, email: str, name: str = "", phone: str = "", customer: Customer | None = None
) -> Contact:
    """Intake by email address: the existing contact, or a new one (race-safe)."""
    email = email.strip().lower()
    existing = Contact.objects.filter(customer=customer, email__iexact=email).first()
    if existing is not None:
        return existing
    try:
        with transaction.atomic():
            return Contact.objects.create(
                customer=customer, email=email, name=name.strip(), phone=phone.strip()
            )
    except IntegrityError:
        # another intake created it between our read and write
        return Contact.objects.get(customer=customer, email__iexact=email)
