"""``manage.py serve`` in the embedded mode, as ``make run`` starts it: one uvicorn process
on SQLite with the in-memory channel layer, the timer thread and beat's other entries."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.processes import terminate

ROOT = Path(__file__).resolve().parents[1]


def _embedded_env(database: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "project.settings",
            "KEFU_DATABASE_URL": f"sqlite:///{database}",
            "KEFU_SERVER_LOG_LEVEL": "warning",
        }
    )
    return env


def test_every_periodic_task_resolves_in_a_fresh_process() -> None:
    """The embedded beat imports each task's module itself: a fresh interpreter (no worker,
    nothing imported yet) finds every entry of CELERY_BEAT_SCHEDULE but the timers."""
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from flows.management.commands.serve import periodic_entries\n"
        "names = sorted(t.name for t, _ in periodic_entries())\n"
        "expected = sorted(e['task'] for n, e in settings.CELERY_BEAT_SCHEDULE.items()"
        " if n != 'dispatch-due-timers')\n"
        "assert names == expected, (names, expected)\n"
        "print(len(names))\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert int(done.stdout.strip()) >= 3  # dead sockets, the outbox sweep, survey reminders


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def embedded_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    env = _embedded_env(tmp_path / "kefu.sqlite3")
    manage = [sys.executable, "manage.py"]
    for step in (["migrate", "--noinput", "-v0"], ["load_demo"]):
        subprocess.run([*manage, *step], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log_path = tmp_path / "serve.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [*manage, "serve", f"127.0.0.1:{port}"],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        base = f"http://127.0.0.1:{port}"
        try:
            deadline = time.monotonic() + 60
            while True:
                assert process.poll() is None, log_path.read_text()
                try:
                    with urllib.request.urlopen(f"{base}/login/", timeout=2) as response:
                        if response.status == 200:
                            break
                except OSError:
                    pass
                assert time.monotonic() < deadline, log_path.read_text()
                time.sleep(0.1)  # polling a starting server, not standing in for a result
            yield base, log_path
        finally:
            terminate(process)


def _demo_code(username: str) -> str:
    """The current code of the demo user's authenticator (the secrets the README prints)."""
    import base64

    from django_otp.oath import totp

    from tickets.management.commands.load_demo import DEMO_TOTP_SECRETS

    return f"{totp(base64.b32decode(DEMO_TOTP_SECRETS[username])):06d}"


def _post(url: str, data: dict[str, Any], token: str | None = None) -> dict[str, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(url, data=json.dumps(data).encode(), headers=headers)
    with urllib.request.urlopen(request, timeout=10) as response:
        return dict(json.load(response))


def test_make_run_server_serves_pages_and_pushes_from_its_threads(
    embedded_server: tuple[str, Path],
) -> None:
    """A ticket opened over HTTP (a sync view in a worker thread) reaches a supervisor's
    socket through the in-memory layer, handed to uvicorn's loop."""
    import websockets

    base, log_path = embedded_server
    with urllib.request.urlopen(f"{base}/static/web/kefu.css", timeout=5) as response:
        assert response.status == 200  # static files from WhiteNoise, no collectstatic
    boss = _post(
        f"{base}/api/auth/token/",
        {"username": "supervisor", "password": "supervisor", "otp": _demo_code("supervisor")},
    )
    admin = _post(
        f"{base}/api/auth/token/",
        {"username": "admin", "password": "admin", "otp": _demo_code("admin")},
    )

    async def scenario() -> dict[str, Any]:
        ws_url = base.replace("http", "ws") + f"/ws/queue/?token={boss['token']}"
        async with websockets.connect(ws_url) as ws:
            hello = json.loads(await ws.recv())
            assert hello["type"] == "hello" and "supervisors" in hello["groups"]
            created = await asyncio.to_thread(
                _post,
                f"{base}/api/tickets/",
                {"subject": "Embedded push", "priority": "P2", "contact": {"email": "e@x.cn"}},
                admin["token"],
            )
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
                if message["type"] == "queue.event" and message["event"] == "created":
                    assert message["object"]["object_id"] == created["id"]
                    return message

    event = asyncio.run(scenario())
    assert event["object"]["title"] == "Embedded push"
    assert "Traceback" not in log_path.read_text(errors="replace")
