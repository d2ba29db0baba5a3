"""The customer's link to their request page (docs/email.md, "The request page").

A link is signed with the site's secret (HMAC, ``django.core.signing``) and carries the
ticket and the contact it was issued to and its time; it is refused once
``KEFU_REQUEST_LINK_DAYS`` have passed. Nothing is stored, so a link cannot be listed or
leaked from the database; a customer whose link expired asks for a new one by email."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "kefu.tickets.request-link"


@dataclass(frozen=True)
class RequestAccess:
    ticket_id: int
    contact_id: int


class LinkExpired(Exception):
    """A genuine link whose time is over (the page offers to send a new one)."""


class LinkInvalid(Exception):
    """Not a link Kefu issued (tampered, truncated, or of another site)."""


def request_token(*, ticket_id: int, contact_id: int) -> str:
    return signing.dumps([ticket_id, contact_id], salt=SALT, compress=False)


def request_url(*, ticket_id: int, contact_id: int) -> str:
    token = request_token(ticket_id=ticket_id, contact_id=contact_id)
    return f"{settings.SITE_URL}/help/requests/{token}/"


def read_request_token(token: str) -> RequestAccess:
    max_age = timedelta(days=settings.KEFU_REQUEST_LINK_DAYS)
    try:
        ticket_id, contact_id = signing.loads(token, salt=SALT, max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from exc
    if not isinstance(ticket_id, int) or not isinstance(contact_id, int):
        raise LinkInvalid("malformed")
    return RequestAccess(ticket_id=ticket_id, contact_id=contact_id)


def read_expired_request_token(token: str) -> RequestAccess:
    """Whom a genuine but expired link was issued to: the request page offers that contact a
    new link by email (never the page itself). Raises ``LinkInvalid`` as above."""
    try:
        ticket_id, contact_id = signing.loads(token, salt=SALT)
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from exc
    if not isinstance(ticket_id, int) or not isinstance(contact_id, int):
        raise LinkInvalid("malformed")
    return RequestAccess(ticket_id=ticket_id, contact_id=contact_id)
