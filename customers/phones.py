"""Phone numbers: validated and stored in E.164 (``+8613800138000``) with the
``phonenumbers`` library, so that duplicates, imports and the contact search compare one
form. A number written without its country code is read in ``KEFU_DEFAULT_PHONE_REGION``
(``CN`` unless the site says otherwise)."""

from __future__ import annotations

import phonenumbers
from django.conf import settings
from django.utils.translation import gettext as _


class InvalidPhone(ValueError):
    """The text is not a phone number Kefu can store; ``str()`` says why, translated."""


def default_region() -> str:
    return str(getattr(settings, "KEFU_DEFAULT_PHONE_REGION", "CN"))


def normalise_phone(text: str, region: str | None = None) -> str:
    """``text`` as E.164, or "" for blank text; ``InvalidPhone`` when it is no valid number."""
    text = text.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region or default_region())
    except phonenumbers.NumberParseException as exc:
        raise InvalidPhone(_("This is not a phone number.")) from exc
    if not phonenumbers.is_valid_number(number):
        raise InvalidPhone(_("This phone number is not valid."))
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def display_phone(e164: str) -> str:
    """How a stored number reads: international format (``+86 138 0013 8000``); stored text
    that is not E.164 (written before numbers were normalised) as it is."""
    if not e164:
        return ""
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return e164
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
