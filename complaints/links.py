"""The customer's link to accept or dispute a complaint's outcome (docs/complaints.md,
"Closing"). Signed with the site's secret (HMAC) over the complaint, the contact and the
final answer it was sent with (the complaint's version then), so a link of an earlier
answer cannot answer a later one; nothing is stored. The window itself is the complaint's
``response_due_at``, checked by the service."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "kefu.complaints.respond-link"
# Longest a link is read at all; the complaint's own window is checked by the service.
MAX_AGE_DAYS = 400


@dataclass(frozen=True)
class RespondAccess:
    complaint_id: int
    contact_id: int
    answer: int  # the number of the final answer the link was sent with


class LinkInvalid(Exception):
    """Not a link Kefu issued (tampered, truncated, or of another site) or too old."""


def respond_token(*, complaint_id: int, contact_id: int, answer: int) -> str:
    return signing.dumps([complaint_id, contact_id, answer], salt=SALT, compress=False)


def respond_url(*, complaint_id: int, contact_id: int, answer: int) -> str:
    token = respond_token(complaint_id=complaint_id, contact_id=contact_id, answer=answer)
    return f"{settings.SITE_URL}/help/complaints/{token}/"


def read_respond_token(token: str) -> RespondAccess:
    try:
        values = signing.loads(token, salt=SALT, max_age=timedelta(days=MAX_AGE_DAYS))
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from exc
    if not (
        isinstance(values, list) and len(values) == 3 and all(isinstance(v, int) for v in values)
    ):
        raise LinkInvalid("malformed")
    return RespondAccess(complaint_id=values[0], contact_id=values[1], answer=values[2])
