"""API tokens and socket tickets (issue 8, item 5; docs/security.md, "Tokens and live sockets").

Tokens live ``KEFU_TOKEN_TTL`` seconds from their issue, ``POST /api/auth/logout/`` revokes
them, a password change rotates them, and neither a token nor a socket ticket ever reaches
the server's log. Expiry is shown by moving a token's ``created`` (or a ticket's stored
expiry) into the past, never by waiting.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.utils import timezone
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from notifications import auth
from project.authentication import token_lifetime
from tests.browser.conftest import _free_port, _wait_until_serving, live_layer
from tests.conftest import client_for
from tests.notifications.test_consumer import connect, in_thread, next_message, run, socket
from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[2]

__all__ = ["live_layer"]  # the fixture, for the uvicorn server below


def _expire(user: Any) -> None:
    Token.objects.filter(user=user).update(
        created=timezone.now() - token_lifetime() - timedelta(seconds=1)
    )


def _login(api: APIClient, username: str, password: str = "pw") -> str:
    response = api.post(
        "/api/auth/token/", {"username": username, "password": password}, format="json"
    )
    assert response.status_code == 200, response.content
    return str(response.json()["token"])


async def _closed_with(ws: Any) -> int:
    while True:
        output = await ws.receive_output(timeout=5)
        if output["type"] == "websocket.close":
            return int(output["code"])


# --- lifetime ---------------------------------------------------------------------------
@pytest.mark.django_db
def test_an_expired_token_is_refused_with_401(desk: Any) -> None:
    api = client_for(desk.agent1)
    assert api.get("/api/me/").status_code == 200
    _expire(desk.agent1)
    response = api.get("/api/me/")
    assert response.status_code == 401
    body = response.json()
    assert set(body) == {"detail", "errors"} and body["detail"] and body["errors"] == {}
    assert response["WWW-Authenticate"] == "Token"


@pytest.mark.django_db
def test_a_token_lives_its_lifetime(desk: Any) -> None:
    api = client_for(desk.agent1)
    Token.objects.filter(user=desk.agent1).update(
        created=timezone.now() - token_lifetime() + timedelta(minutes=1)
    )
    assert api.get("/api/me/").status_code == 200


@pytest.mark.django_db
def test_logging_in_again_replaces_an_expired_token(desk: Any, api: APIClient) -> None:
    first = _login(api, "agent1")
    assert _login(api, "agent1") == first  # still valid: the same token
    _expire(desk.agent1)
    second = _login(api, "agent1")
    assert second != first
    api.credentials(HTTP_AUTHORIZATION=f"Token {second}")
    assert api.get("/api/me/").status_code == 200
    api.credentials(HTTP_AUTHORIZATION=f"Token {first}")
    assert api.get("/api/me/").status_code == 401


# --- logout -----------------------------------------------------------------------------
@pytest.mark.django_db
def test_logout_revokes_the_token(desk: Any) -> None:
    api = client_for(desk.agent1)
    response = api.post("/api/auth/logout/")
    assert response.status_code == 204
    assert not Token.objects.filter(user=desk.agent1).exists()
    assert api.get("/api/me/").status_code == 401
    assert api.post("/api/auth/logout/").status_code == 401


@pytest.mark.django_db
def test_logout_of_a_session_ends_the_session(desk: Any) -> None:
    api = APIClient()
    api.force_login(desk.agent1)
    assert api.get("/api/me/").status_code == 200
    assert api.post("/api/auth/logout/").status_code == 204
    assert api.get("/api/me/").status_code == 401


@pytest.mark.django_db
def test_logout_without_credentials_is_401(desk: Any, api: APIClient) -> None:
    response = api.post("/api/auth/logout/")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


# --- rotation on a password change ------------------------------------------------------
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_password_change_revokes_tokens_and_closes_sockets(desk: Any) -> None:
    api = client_for(desk.agent1)
    session = Client()
    session.force_login(desk.agent1)
    cookie = f"sessionid={session.cookies['sessionid'].value}"

    def change_password() -> None:
        user = User.objects.get(pk=desk.agent1.pk)
        user.set_password("a new password")
        user.save()

    async def body() -> None:
        by_token, _ = await connect(desk.agent1)
        by_session = socket(cookie=cookie)
        assert (await by_session.connect(timeout=5))[0]
        await next_message(by_session, "hello")
        await in_thread(change_password)
        assert await _closed_with(by_token) == 4401
        assert await _closed_with(by_session) == 4401
        await by_token.disconnect()
        await by_session.disconnect()

    run(body)
    assert api.get("/api/me/").status_code == 401
    assert not Token.objects.filter(user=desk.agent1).exists()


@pytest.mark.django_db
def test_logging_in_does_not_rotate_the_token(desk: Any, api: APIClient) -> None:
    """Only a new password does: a login (or a hash upgrade at login) saves the user too."""
    token = _login(api, "agent1")
    session = Client()
    assert session.login(username="agent1", password="pw")
    assert Token.objects.filter(key=token).exists()


# --- socket tickets ---------------------------------------------------------------------
def _ticket(api: APIClient) -> dict[str, Any]:
    response = api.post("/api/auth/socket-ticket/")
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.mark.django_db
def test_a_socket_ticket_needs_credentials(desk: Any, api: APIClient) -> None:
    response = api.post("/api/auth/socket-ticket/")
    assert response.status_code == 401
    assert set(response.json()) == {"detail", "errors"}


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_socket_ticket_opens_one_socket_once(desk: Any) -> None:
    issued = _ticket(client_for(desk.agent1))
    assert set(issued) == {"ticket", "expires"}
    token = Token.objects.get(user=desk.agent1).key
    assert token not in issued["ticket"]
    lifetime = datetime.fromisoformat(issued["expires"]) - timezone.now()
    assert timedelta(0) < lifetime <= timedelta(seconds=30)

    async def body() -> None:
        ws = auth_socket(issued["ticket"])
        assert (await ws.connect(timeout=5))[0]
        hello = await next_message(ws, "hello")
        assert hello["user"] == desk.agent1.pk
        again = auth_socket(issued["ticket"])
        await again.connect(timeout=5)
        assert await _closed_with(again) == 4401  # single use
        await ws.disconnect()

    run(body)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_an_expired_socket_ticket_is_refused(desk: Any) -> None:
    issued = _ticket(client_for(desk.agent1))
    key = auth.ticket_cache_key(issued["ticket"])
    stored = cache.get(key)
    stored["expires"] = (timezone.now() - timedelta(seconds=1)).timestamp()
    cache.set(key, stored, 60)

    async def body() -> None:
        ws = auth_socket(issued["ticket"])
        await ws.connect(timeout=5)
        assert await _closed_with(ws) == 4401

    run(body)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_ticket_socket_closes_with_the_token_that_asked_for_it(desk: Any) -> None:
    issued = _ticket(client_for(desk.agent1))

    async def body() -> None:
        ws = auth_socket(issued["ticket"])
        assert (await ws.connect(timeout=5))[0]
        await next_message(ws, "hello")
        await in_thread(Token.objects.filter(user=desk.agent1).delete)
        assert await _closed_with(ws) == 4401
        await ws.disconnect()

    run(body)


@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_a_session_gets_a_ticket_for_its_socket(desk: Any) -> None:
    api = APIClient(enforce_csrf_checks=True)
    api.force_login(desk.agent1)
    assert api.post("/api/auth/socket-ticket/").status_code == 403
    page = Client(enforce_csrf_checks=True)
    page.force_login(desk.agent1)
    assert page.get("/queue/").status_code == 200  # the page sets the CSRF cookie
    csrf = page.cookies["csrftoken"].value
    response = page.post("/api/auth/socket-ticket/", HTTP_X_CSRFTOKEN=csrf)
    assert response.status_code == 200, response.content

    async def body() -> None:
        ws = auth_socket(response.json()["ticket"], origin=b"http://testserver")
        assert (await ws.connect(timeout=5))[0]
        assert (await next_message(ws, "hello"))["user"] == desk.agent1.pk
        await ws.disconnect()

    run(body)


def auth_socket(ticket: str, origin: bytes | None = None) -> Any:
    from channels.testing import WebsocketCommunicator

    from project.asgi import application

    headers = [(b"host", b"testserver")]
    if origin is not None:
        headers.append((b"origin", origin))
    return WebsocketCommunicator(application, f"/ws/queue/?ticket={ticket}", headers=headers)


@pytest.mark.django_db
def test_the_schema_documents_the_new_endpoints(desk: Any) -> None:
    paths = APIClient().get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    logout = paths["/api/auth/logout/"]["post"]
    assert {"204", "401"} <= set(logout["responses"])
    ticket = paths["/api/auth/socket-ticket/"]["post"]
    assert {"200", "401"} <= set(ticket["responses"])


# --- secrets stay out of the server log ------------------------------------------------
@pytest.fixture
def logging_server(transactional_db: Any, live_layer: str) -> Iterator[tuple[str, Path]]:
    """``uvicorn project.asgi:application`` at log level info (its access log and the
    WebSocket handshake lines on), on the live test database."""
    db = connection.settings_dict
    database_url = (
        f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    )
    port = _free_port()
    log_path = Path(tempfile.mkdtemp(prefix="kefu-uvicorn-")) / "server.log"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "project.settings",
        "KEFU_DATABASE_URL": database_url,
        "KEFU_REDIS_URL": live_layer,
        "KEFU_LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                sys.executable,
                *("-m", "uvicorn", "project.asgi:application", "--host", "127.0.0.1"),
                *("--port", str(port), "--log-level", "info"),
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_until_serving(base, process, log_path)
            yield base, log_path
        finally:
            terminate(process)
            connection.close()


def _logged_until(log_path: Path, line: str) -> str:
    """The server's log once ``line`` is in it (polled, with a deadline)."""
    deadline = time.monotonic() + 10
    while line not in log_path.read_text(errors="replace") and time.monotonic() < deadline:
        time.sleep(0.05)  # polling the log file, not standing in for a result
    return log_path.read_text(errors="replace")


async def _hello(url: str) -> dict[str, Any]:
    import websockets

    async with websockets.connect(url) as ws:
        hello: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        return hello


@pytest.mark.redis
@pytest.mark.postgres
def test_tokens_and_tickets_never_reach_the_server_log(
    desk: Any, logging_server: tuple[str, Path]
) -> None:
    base, log_path = logging_server
    ws_base = base.replace("http", "ws")
    token = Token.objects.get_or_create(user=desk.agent1)[0].key

    # The API token, as existing clients send it: the socket's URL and any HTTP query.
    assert asyncio.run(_hello(f"{ws_base}/ws/queue/?token={token}"))["user"] == desk.agent1.pk
    request = urllib.request.Request(
        f"{base}/api/me/?token={token}", headers={"Authorization": f"Token {token}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    text = _logged_until(log_path, "GET /api/me/")
    assert "WebSocket /ws/queue/?token=" in text, text  # the handshake is logged at all …
    assert "GET /api/me/?token=" in text, text
    assert token not in text, text  # … without the secret

    # A socket ticket, from the server itself (it lives in the server's cache).
    asked = urllib.request.Request(
        f"{base}/api/auth/socket-ticket/",
        method="POST",
        headers={"Authorization": f"Token {token}"},
    )
    with urllib.request.urlopen(asked, timeout=10) as response:
        ticket = json.load(response)["ticket"]
    assert asyncio.run(_hello(f"{ws_base}/ws/queue/?ticket={ticket}"))["user"] == desk.agent1.pk
    text = _logged_until(log_path, "WebSocket /ws/queue/?ticket=")
    assert "WebSocket /ws/queue/?ticket=" in text, text
    assert ticket not in text and token not in text, text


def test_manage_py_serve_gives_uvicorn_the_redacting_handlers(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``manage.py serve`` configures uvicorn itself: each of its handlers redacts too.
    (Its uvicorn is not started: the test reads the configuration it would run with.)"""
    import logging

    import uvicorn
    from uvicorn.logging import AccessFormatter

    from flows.management.commands.serve import Command
    from project.log_secrets import RedactSecrets

    started: list[Any] = []
    monkeypatch.setattr(uvicorn.Server, "run", lambda server: started.append(server.config))
    Command()._run_web_server("127.0.0.1:8000")  # nothing listens: run() is replaced
    config = started[0].log_config
    assert isinstance(config, dict)
    assert all("redact_secrets" in h["filters"] for h in config["handlers"].values())
    assert config["filters"]["redact_secrets"]["()"] == "project.log_secrets.RedactSecrets"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/ws/queue/?a=1&%74oken=s3cret&ticket=t1ck3t", "1.1", 200),
        None,
    )
    assert RedactSecrets().filter(record)
    line = AccessFormatter(fmt="%(request_line)s %(status_code)s", use_colors=False).format(record)
    assert line == "GET /ws/queue/?a=1&%74oken=[redacted]&ticket=[redacted] HTTP/1.1 200 OK"


def test_survey_links_are_kept_out_of_log_lines() -> None:
    """A survey link is its key: Django's request log (404s, 400s) and uvicorn's access log
    keep the path and drop the key."""
    import logging

    from project.log_secrets import RedactSecrets

    key = "I6eDmGilKNRfjB7K0bqWXcjPtBdEQutOHNBiCFr7Pbc"
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        __file__,
        1,
        '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:5", "GET", f"/s/{key}/?score=3", "1.1", 200),
        None,
    )
    not_found = logging.LogRecord(
        "django.request", logging.WARNING, __file__, 1, "Not Found: %s", (f"/s/{key}/",), None
    )
    for item in (record, not_found):
        RedactSecrets().filter(item)
        assert key not in item.getMessage()
        assert "/s/[redacted]/" in item.getMessage()
