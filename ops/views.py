"""``/healthz`` (alive), ``/readyz`` (ready to serve) and ``/metrics`` (Prometheus).

Plain Django views outside every login: probes and scrapers carry no session. ``/readyz``
answers only statuses and figures; ``/metrics`` answers loopback, the networks of
``KEFU_METRICS_ALLOW`` or a request with ``KEFU_METRICS_TOKEN`` (docs/operations.md).
"""

from __future__ import annotations

import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST

from project.throttling import client_address

from . import checks, metrics


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness: the process answers. No dependency is asked (a database outage must not
    get every web process restarted)."""
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    results = checks.run_checks()
    failed = [name for name, result in results.items() if not result["ok"]]
    return JsonResponse(
        {"status": "not ready" if failed else "ready", "failed": failed, "checks": results},
        status=503 if failed else 200,
    )


def metrics_allowed(request: HttpRequest) -> bool:
    token: str = settings.KEFU_METRICS_TOKEN
    if token:
        header = str(request.META.get("HTTP_AUTHORIZATION", ""))
        if hmac.compare_digest(header.encode(), f"Bearer {token}".encode()):
            return True
    try:
        address = ipaddress.ip_address(client_address(request))
    except ValueError:
        return False
    return any(address in network for network in settings.KEFU_METRICS_ALLOW)


@never_cache
@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    if not metrics_allowed(request):
        return HttpResponse(
            "Metrics are served only to allowed addresses / 指标仅对允许的地址开放\n",
            status=403,
            content_type="text/plain; charset=utf-8",
        )
    return HttpResponse(metrics.render(), content_type=CONTENT_TYPE_LATEST)
