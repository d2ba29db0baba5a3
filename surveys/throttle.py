"""A per-address limit on the public survey pages, counted in the shared cache (so it
holds across web processes): a fixed window of ``KEFU_SURVEY_THROTTLE`` (e.g. 30/min)."""

from __future__ import annotations

import time

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest

PERIODS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "hour": 3600, "d": 86400, "day": 86400}


def parse_rate(rate: str) -> tuple[int, int]:
    count, _, unit = rate.partition("/")
    return int(count), PERIODS[unit.strip()]


def retry_after(request: HttpRequest) -> int | None:
    """Counts this request; returns the seconds to wait when the address is over its limit.
    The address is REMOTE_ADDR: behind a proxy, have it set from X-Forwarded-For there."""
    limit, period = parse_rate(settings.KEFU_SURVEY_THROTTLE)
    now = time.time()
    window = int(now // period)
    key = f"survey-throttle:{request.META.get('REMOTE_ADDR', '')}:{window}"
    if cache.add(key, 1, timeout=period + 1):
        count = 1
    else:
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=period + 1)
            count = 1
    if count <= limit:
        return None
    return max(1, int((window + 1) * period - now))
