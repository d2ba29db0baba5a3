"""Browser tests: Debian's Chromium driven by Playwright against a real ASGI server.

The server is ``uvicorn project.asgi:application`` in a subprocess on the live test
database (``transactional_db``) with a Redis channel layer in a private database
(``KEFU_E2E_REDIS_DB``); this process points its own channel layer there too, so a
service called from a test (an SLA checkpoint, say) reaches the browsers.
"""

from __future__ import annotations

import copy
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection

from tests.conftest import REQUIRE_SERVICES
from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("KEFU_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
REDIS_DB = int(os.environ.get("KEFU_E2E_REDIS_DB", "7"))
# How long a step may take before the test fails: generous, for a busy 2-core machine (a
# wait ends as soon as its condition holds, so this costs nothing when things go right).
STEP_TIMEOUT_MS = 20_000
# Laid out for a laptop: the screens must work at 1366x768.
VIEWPORT = {"width": 1366, "height": 768}


def _missing() -> str | None:
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "needs the playwright package (pip install -e '.[dev]')"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"needs Chromium at {CHROMIUM} (apt-get install chromium)"
    if not settings.USING_POSTGRES:
        return "needs PostgreSQL: set KEFU_DATABASE_URL=postgres://…"
    if not settings.REDIS_URL:
        return "needs Redis: set KEFU_REDIS_URL=redis://…"
    return None


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("browser") is None:
        return
    reason = _missing()
    if reason is None:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"KEFU_REQUIRE_SERVICES=1 but this browser test {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _sync_orm_beside_playwright(monkeypatch: pytest.MonkeyPatch) -> None:
    """Playwright's sync API keeps an event loop in this thread; the ORM calls of the test
    (and of its database teardown) are still plain synchronous code."""
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(autouse=True)
def _fast_password_hashing() -> None:
    """Overrides the suite's MD5 hashing: the server checks passwords with the real hashers."""


def _redis_url(db: int) -> str:
    from urllib.parse import urlparse

    return urlparse(settings.REDIS_URL)._replace(path=f"/{db}").geturl()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def live_layer(settings: Any) -> Iterator[str]:
    """This process's channel layer on the server's Redis database."""
    import redis
    from channels.layers import channel_layers

    url = _redis_url(REDIS_DB)
    client = redis.Redis.from_url(url)
    client.flushdb()
    client.close()
    # The server subprocess reads the same KEFU_CHANNEL_LAYER, so both ends use one layer kind.
    layers = copy.deepcopy(settings.CHANNEL_LAYERS)
    layers["default"]["CONFIG"]["hosts"] = [url]
    settings.CHANNEL_LAYERS = layers
    channel_layers.backends = {}
    yield url
    from notifications.realtime import wait_for_pending

    wait_for_pending()
    channel_layers.backends = {}


def forget_server_cache(layer_url: str, pattern: str) -> None:
    """Deletes the server's cache keys matching ``pattern`` (throttle and login counters live
    in its cache, the Redis database after its channel layer's, and outlive a test)."""
    from urllib.parse import urlparse

    import redis

    parts = urlparse(layer_url)
    cache_url = (
        os.environ.get("KEFU_CACHE_URL")
        or parts._replace(path=f"/{int(parts.path.strip('/') or 0) + 1}").geturl()
    )
    client = redis.Redis.from_url(cache_url)
    try:
        keys = list(client.scan_iter(match=pattern))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


@pytest.fixture
def server(transactional_db: Any, live_layer: str) -> Iterator[str]:
    """``uvicorn project.asgi:application`` on a free port; yields its base URL."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    port = _free_port()
    workdir = tempfile.mkdtemp(prefix="kefu-uvicorn-")
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "KEFU_DATABASE_URL": database_url,
        "KEFU_REDIS_URL": live_layer,
        "KEFU_LOG_LEVEL": "WARNING",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # the server keeps Django's guard
    log_path = Path(workdir) / "server.log"
    log = open(log_path, "wb")  # noqa: SIM115 - closed in finally
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "project.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_serving(base, process, log_path)
        yield base
    finally:
        terminate(process)
        log.close()
        connection.close()


def _wait_until_serving(base: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the server exited: {log.read_text(errors='replace')[-3000:]}")
        try:
            with urllib.request.urlopen(f"{base}/login/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.1)  # polling a starting server, not synchronising a test
    raise RuntimeError(f"the server did not start: {log.read_text(errors='replace')[-3000:]}")


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


def login(browser: Any, base: str, username: str, password: str, language: str = "en") -> Any:
    """A fresh context logged in through the login page; returns its page."""
    context = browser.new_context(base_url=base, viewport=VIEWPORT, locale=language)
    context.set_default_timeout(STEP_TIMEOUT_MS)
    page = context.new_page()
    page.goto("/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: not url.endswith("/login/"))
    return page


# --- what the screens' tests share: the desk, the REST API as the administrator, waits ---
def expect(locator: Any) -> Any:
    from playwright.sync_api import expect as playwright_expect

    return playwright_expect(locator)


@pytest.fixture
def desk(transactional_db: Any) -> Any:
    from tests.factories import build_desk

    return build_desk()


@pytest.fixture
def api(server: str, desk: Any) -> Any:
    """The REST API as the administrator (token), outside every browser context."""
    from rest_framework.authtoken.models import Token

    token, _ = Token.objects.get_or_create(user=desk.admin)
    return _Api(server, token.key)


class _Api:
    def __init__(self, base: str, token: str) -> None:
        self.base, self.token = base, token

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        import json
        import urllib.request

        request = urllib.request.Request(
            f"{self.base}{path}",
            data=json.dumps(body).encode(),
            method="POST",
            headers={"Authorization": f"Token {self.token}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            data: dict[str, Any] = json.loads(response.read())
            return data

    def open_ticket(self, desk: Any, subject: str, priority: str = "P2") -> dict[str, Any]:
        return self.post(
            "/api/tickets/",
            {"subject": subject, "priority": priority, "contact_id": desk.contact.pk},
        )


def row(page: Any, ticket_id: int) -> Any:
    return page.locator(f"tbody tr[data-id='{ticket_id}']")


def live(page: Any) -> None:
    expect(page.locator("#connection")).to_have_attribute("data-state", "live")


class _RefererLog(BaseHTTPRequestHandler):
    seen: dict[str, str | None]

    def do_GET(self) -> None:
        self.seen[self.path] = self.headers.get("Referer")
        body = b"<!DOCTYPE html><title>elsewhere</title><p>elsewhere</p>"
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def elsewhere() -> Iterator[tuple[str, dict[str, str | None]]]:
    """Another origin (a real HTTP server on another port) that logs the Referer of each
    path it serves."""
    seen: dict[str, str | None] = {}

    class Log(_RefererLog):
        pass

    Log.seen = seen
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Log)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}/", seen
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()
