"""Signed unsubscribe links (docs/customers-segments.md).

A token is the contact's id and the purpose, signed with the project's secret under its
own salt and timestamped; it stays good for ``MAX_AGE`` (a campaign email is read long
after it was sent). Nothing is stored: the token is the proof. ``unsubscribe_headers``
gives a campaign email its ``List-Unsubscribe`` headers (RFC 2369, one-click RFC 8058)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse

from .choices import Purpose
from .models import Contact

SALT = "customers.unsubscribe"
MAX_AGE = 365 * 24 * 3600


class BadToken(Exception):
    """Tampered with or not ours."""


class ExpiredToken(Exception):
    """Ours, but older than ``MAX_AGE``."""


@dataclass(frozen=True)
class Unsubscription:
    contact: Contact
    purpose: str


def make_token(contact: Contact, purpose: str) -> str:
    if purpose not in Purpose.values:
        raise ValueError(purpose)
    return signing.dumps({"c": contact.pk, "p": purpose}, salt=SALT, compress=False)


def read_token(token: str) -> Unsubscription:
    """The contact and purpose a token names; ``BadToken`` or ``ExpiredToken`` otherwise
    (a contact merged away is followed to the one it was merged into)."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.SignatureExpired as exc:
        raise ExpiredToken from exc
    except signing.BadSignature as exc:
        raise BadToken from exc
    if not isinstance(data, dict):
        raise BadToken
    pk, purpose = data.get("c"), data.get("p")
    if not isinstance(pk, int) or purpose not in Purpose.values:
        raise BadToken
    contact = Contact.objects.filter(pk=pk).first()
    hops = 0
    while contact is not None and contact.merged_into_id is not None and hops < 10:
        contact = Contact.objects.filter(pk=contact.merged_into_id).first()
        hops += 1
    if contact is None:
        raise BadToken
    return Unsubscription(contact, purpose)


def _site() -> str:
    return str(settings.SITE_URL).rstrip("/")


def unsubscribe_url(contact: Contact, purpose: str) -> str:
    """The absolute link to the public unsubscribe page."""
    return _site() + reverse("web:unsubscribe", args=[make_token(contact, purpose)])


def unsubscribe_headers(contact: Contact, purpose: str) -> dict[str, str]:
    """The headers of a campaign email: the link, and one-click unsubscribe (RFC 8058: the
    mail client POSTs ``List-Unsubscribe=One-Click`` to it)."""
    return {
        "List-Unsubscribe": f"<{unsubscribe_url(contact, purpose)}>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
