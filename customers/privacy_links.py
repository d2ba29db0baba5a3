"""The signed link of an access request's export (docs/customers-privacy.md): signed with
the site's secret (HMAC) over the request and its contact, stamped with the time it was
made, good for ``KEFU_PRIVACY_LINK_DAYS`` (7) days; nothing is stored."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing

SALT = "kefu.customers.privacy-export"


def link_days() -> int:
    return int(getattr(settings, "KEFU_PRIVACY_LINK_DAYS", 7))


@dataclass(frozen=True)
class ExportAccess:
    request_id: int
    contact_id: int


class LinkInvalid(Exception):
    """Not a link Kefu issued (tampered, truncated, of another site)."""


class LinkExpired(Exception):
    """A link Kefu issued, older than its days."""


def export_token(*, request_id: int, contact_id: int) -> str:
    return signing.dumps([request_id, contact_id], salt=SALT, compress=False)


def export_url(*, request_id: int, contact_id: int) -> str:
    token = export_token(request_id=request_id, contact_id=contact_id)
    return f"{settings.SITE_URL}/privacy/export/{token}/"


def read_export_token(token: str) -> ExportAccess:
    try:
        values = signing.loads(token, salt=SALT, max_age=timedelta(days=link_days()))
    except signing.SignatureExpired as exc:
        raise LinkExpired(str(exc)) from exc
    except (signing.BadSignature, ValueError, TypeError) as exc:
        raise LinkInvalid(str(exc)) from exc
    if not (
        isinstance(values, list) and len(values) == 2 and all(isinstance(v, int) for v in values)
    ):
        raise LinkInvalid("malformed")
    return ExportAccess(request_id=values[0], contact_id=values[1])
