"""Push latency in ``/metrics``: a real push through the Redis channel layer to a socket of
the real ASGI application is counted, shared through Redis, and never shown to clients."""

from __future__ import annotations

from typing import Any

import pytest
from asgiref.sync import sync_to_async
from django.test import Client

from notifications import latency
from tests.factories import open_ticket
from tests.notifications.test_consumer import connect, next_message, run
from tests.ops.test_metrics import scrape

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def counts(client: Client, kind: str) -> tuple[float, float]:
    """The histogram's count and its 10-second bucket for ``kind``."""
    samples = scrape(client)
    count = samples[("kefu_push_latency_seconds_count", (("kind", kind),))]
    within = samples[("kefu_push_latency_seconds_bucket", (("kind", kind), ("le", "10.0")))]
    return count, within


def test_a_delivered_event_is_counted_and_its_stamp_stays_inside(client: Client, desk: Any) -> None:
    latency.flush()
    before, _ = counts(client, "queue")
    received: list[dict[str, Any]] = []

    async def body() -> None:
        ws, _hello = await connect(desk.supervisor)
        await sync_to_async(open_ticket)(desk)
        received.append(await next_message(ws, "queue.event"))
        await ws.disconnect()

    run(body)
    assert received[0]["object"]["kind"] == "ticket"
    assert latency.PUSHED_AT not in received[0]  # the API.md event, nothing more

    latency.flush()  # what the process's flusher does every few seconds
    after, within = counts(client, "queue")
    assert after == before + 1
    assert within >= after  # delivered in well under 10 s, and every count in a bucket


def test_histogram_buckets_are_cumulative() -> None:
    histogram = latency.Histogram()
    for seconds in (0.001, 0.03, 0.03, 20.0):
        histogram.add(seconds)
    rows = dict(histogram.cumulative())
    assert rows["0.005"] == 1
    assert rows["0.025"] == 1
    assert rows["0.05"] == 3
    assert rows["10.0"] == 3
    assert rows["+Inf"] == 4
    assert histogram.count == 4
    assert histogram.total == pytest.approx(20.061)


def test_without_redis_the_serving_process_answers_its_own_figures(settings: Any) -> None:
    """The embedded mode: one process serves the sockets and /metrics, nothing is shared."""
    settings.REDIS_URL = ""
    before = latency.histograms().get("presence", latency.Histogram()).count
    latency.observe("presence", latency.stamp({})[latency.PUSHED_AT])
    latency.observe("presence", None)  # an unstamped message is not a figure
    assert latency.histograms()["presence"].count == before + 1
