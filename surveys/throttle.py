"""A per-address limit on the public survey pages, counted in the shared cache (so it
holds across web processes): a fixed window of ``KEFU_SURVEY_THROTTLE`` (e.g. 30/min)."""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpRequest

from project.throttling import client_address, count_hit, parse_rate


def retry_after(request: HttpRequest) -> int | None:
    """Counts this request; returns the seconds to wait when the address is over its limit.
    The address is the one every throttle counts by (``KEFU_TRUSTED_PROXIES``)."""
    limit, period = parse_rate(settings.KEFU_SURVEY_THROTTLE)
    now = time.time()
    window = int(now // period)
    key = f"survey-throttle:{client_address(request)}:{window}"
    count = count_hit(key, period + 1)
    if count <= limit:
        return None
    return max(1, int((window + 1) * period - now))
