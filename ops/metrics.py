"""Kefu's own Prometheus metrics, computed from the database at scrape time.

Every figure is read from PostgreSQL (or Redis) when ``/metrics`` is scraped, so each web
process answers the same numbers and no multi-process counter store is needed
(docs/operations.md, "Metrics").
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

from django.db.models import Count, Q
from django.utils import timezone
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from prometheus_client.registry import Collector

from . import checks

INTAKE_WINDOWS = {"5m": timedelta(minutes=5), "1h": timedelta(hours=1)}


class KefuCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        yield from self._outbox()
        yield from self._timers()
        yield from self._queues()
        yield from self._intake()
        yield from self._celery()
        yield from self._push_latency()

    def _outbox(self) -> Iterator[Metric]:
        figures = checks.outbox_figures()
        backlog = GaugeMetricFamily(
            "kefu_outbox_backlog", "Outbox messages not delivered, by status", labels=["status"]
        )
        backlog.add_metric(["pending"], figures["pending"])
        backlog.add_metric(["failed"], figures["failed"])
        yield backlog
        yield GaugeMetricFamily(
            "kefu_outbox_oldest_pending_age_seconds",
            "Age of the oldest pending outbox message (0 when none)",
            value=figures["oldest_pending_age"],
        )

    def _timers(self) -> Iterator[Metric]:
        figures = checks.timer_figures()
        yield GaugeMetricFamily(
            "kefu_timers_due", "Workflow timers due and not fired yet", value=figures["due"]
        )
        yield GaugeMetricFamily(
            "kefu_timer_lateness_seconds",
            "How late the oldest due, unfired workflow timer is (0 when none)",
            value=figures["max_lateness"],
        )

    def _queues(self) -> Iterator[Metric]:
        from processes.models import WorkItem

        open_work = GaugeMetricFamily(
            "kefu_queue_open_tickets",
            "Open work items (every process kind) per team, assigned or not",
            labels=["team", "assigned"],
        )
        breached = GaugeMetricFamily(
            "kefu_queue_breached_tickets",
            "Open work items per team with a breached SLA target",
            labels=["team"],
        )
        rows = (
            WorkItem.objects.values("team__name")
            .annotate(
                unassigned=Count("id", filter=Q(assignee__isnull=True)),
                assigned=Count("id", filter=Q(assignee__isnull=False)),
                breached_count=Count("id", filter=Q(breached=True)),
            )
            .order_by("team__name")
        )
        for row in rows:
            team = row["team__name"] or ""
            open_work.add_metric([team, "no"], row["unassigned"])
            open_work.add_metric([team, "yes"], row["assigned"])
            breached.add_metric([team], row["breached_count"])
        yield open_work
        yield breached

    def _intake(self) -> Iterator[Metric]:
        """Objects of each process kind created within the window (their ``created_at``):
        tickets under the name dashboards know, every kind under ``kefu_work_created``."""
        from processes import runtime

        now = timezone.now()
        tickets = GaugeMetricFamily(
            "kefu_tickets_created",
            "Tickets created within the trailing window (the intake rate)",
            labels=["window"],
        )
        work = GaugeMetricFamily(
            "kefu_work_created",
            "Objects of each process kind created within the trailing window",
            labels=["kind", "window"],
        )
        for kind in runtime.kinds():
            for label, span in INTAKE_WINDOWS.items():
                count = kind.subject_model.objects.filter(created_at__gte=now - span).count()
                work.add_metric([kind.name, label], count)
                if kind.name == "ticket":
                    tickets.add_metric([label], count)
        yield tickets
        yield work

    def _celery(self) -> Iterator[Metric]:
        client = checks._broker_redis()
        if client is None:
            return
        try:
            queue = client.llen("celery")
            age = checks.beat_heartbeat_age()
        finally:
            client.close()
        yield GaugeMetricFamily(
            "kefu_celery_queue_length", "Tasks waiting in the broker's default queue", value=queue
        )
        if age is not None:
            yield GaugeMetricFamily(
                "kefu_beat_heartbeat_age_seconds",
                "Seconds since the active Celery beat's last heartbeat",
                value=age,
            )

    def _push_latency(self) -> Iterator[Metric]:
        from notifications import latency

        found = latency.histograms()
        family = HistogramMetricFamily(
            "kefu_push_latency_seconds",
            "From the commit of a change to its event leaving a socket, by kind of event",
            labels=["kind"],
        )
        for kind in latency.kinds(found):
            histogram = found.get(kind) or latency.Histogram()
            family.add_metric([kind], histogram.cumulative(), sum_value=histogram.total)
        yield family


def render() -> bytes:
    """The text exposition of this process's collectors and Kefu's database figures."""
    registry = CollectorRegistry(auto_describe=False)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    registry.register(KefuCollector())
    return generate_latest(registry)
