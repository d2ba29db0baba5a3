"""``manage.py serve [addrport]``: the one-command server of ``make run``.

The web server is uvicorn running the ASGI application, so HTTP and the
``/ws/queue/`` WebSocket share one port. Embedded mode (no KEFU_REDIS_URL):
the timer dispatcher runs in a thread of the same process, another thread
runs beat's other entries (dead sockets, the outbox, reminders), and the
in-memory channel layer lives in uvicorn's event loop. With KEFU_REDIS_URL:
the same server and a Celery worker with beat in a child process; beat runs
every periodic entry. There is no auto-reloader: it
would fork a second process, and with it a second dispatcher.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from types import FrameType
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection

from processes import dispatcher

logger = logging.getLogger(__name__)

DEFAULT_ADDRPORT = "127.0.0.1:8000"
CELERY_STOP_SECONDS = 10
CELERY_COMMAND = ["-m", "celery", "-A", "project", "worker", "-B"]
CELERY_OPTIONS = ["--concurrency", "2", "--loglevel", "info"]


class Command(BaseCommand):
    help = "Serve Kefu on this machine: the web server plus the timer dispatcher (or Celery)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "addrport", nargs="?", default=DEFAULT_ADDRPORT, help="host:port or port"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        addrport: str = options["addrport"]
        host, port = _split_addrport(addrport)
        # Fail before starting anything: runserver leaves with os._exit on a busy
        # port, which would skip the cleanup below and orphan a Celery worker.
        _check_free(host, port)
        if not settings.WHITENOISE_USE_FINDERS:
            # Production serves the collected files (hashed names, compressed): collect them
            # now, so the one-command server has its CSS and JavaScript too.
            call_command("collectstatic", interactive=False, verbosity=0)
        _stop_on_sigterm()
        url = f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"
        if settings.REDIS_URL:
            self._serve_with_celery(addrport, url)
        else:
            self._serve_embedded(addrport, url)

    def _serve_embedded(self, addrport: str, url: str) -> None:
        interval = _timer_interval()
        stop = threading.Event()
        thread = threading.Thread(
            target=dispatcher.run_forever,
            args=(interval, stop),
            name="kefu-timer-dispatcher",
            daemon=True,
        )
        thread.start()
        periodic = threading.Thread(
            target=_run_periodic_tasks,
            args=(stop,),
            name="kefu-periodic-tasks",
            daemon=True,
        )
        periodic.start()  # beat's other entries: the outbox sweep, survey reminders
        self.stdout.write(
            self.style.SUCCESS("Kefu embedded mode / 嵌入模式")
            + f": {connection.vendor} database, in-process tasks, in-memory channel layer.\n"
            f"Timer dispatcher thread {thread.name!r} running: due timers fired every "
            f"{interval:g} s / 定时器线程已启动.\n"
            f"Serving {url} (API docs: {url}api/docs/)" + _mail_note()
        )
        try:
            self._run_web_server(addrport)
        finally:
            stop.set()
            thread.join(timeout=interval * 10)
            self.stdout.write("Timer dispatcher stopped / 定时器线程已停止.")

    def _serve_with_celery(self, addrport: str, url: str) -> None:
        command = [sys.executable, *CELERY_COMMAND, *CELERY_OPTIONS]
        worker = subprocess.Popen(command, env=os.environ.copy())  # noqa: S603 (fixed argv)
        self.stdout.write(
            self.style.SUCCESS("Kefu with Redis / Redis 模式")
            + f": {connection.vendor} database, broker {_redacted(settings.REDIS_URL)}.\n"
            f"Celery worker with beat started (pid {worker.pid}); beat fires due timers "
            f"every {_timer_interval():g} s, no dispatcher thread.\n"
            f"Serving {url} (API docs: {url}api/docs/)"
        )
        try:
            self._run_web_server(addrport)
        finally:
            _stop_worker(worker)
            self.stdout.write(f"Celery worker stopped (exit code {worker.returncode}).")

    def _run_web_server(self, addrport: str) -> None:
        import uvicorn

        from project.log_secrets import uvicorn_log_config

        host, port = _split_addrport(addrport)
        config = uvicorn.Config(
            "project.asgi:application",
            host=host,
            port=port,
            lifespan="off",
            log_level=os.environ.get("KEFU_SERVER_LOG_LEVEL", "info"),
            # ?token= / ?ticket= values are redacted from its access and handshake lines.
            log_config=uvicorn_log_config(),
            ws_ping_interval=20.0,
            ws_ping_timeout=20.0,
            **proxy_options(),
        )
        uvicorn.Server(config).run()


def proxy_options() -> dict[str, Any]:
    """uvicorn's X-Forwarded-For / -Proto handling as ``KEFU_TRUSTED_PROXIES`` says
    (docs/security.md, "Logins and passwords"). With no trusted proxy it is off: no peer,
    not even one on this machine, rewrites the client's address the login counters see.
    With proxies, uvicorn believes the headers from the addresses in its own
    FORWARDED_ALLOW_IPS (default: this machine, where the proxy usually is)."""
    if settings.KEFU_TRUSTED_PROXIES <= 0:
        return {"proxy_headers": False}
    return {
        "proxy_headers": True,
        "forwarded_allow_ips": os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1"),
    }


def _mail_note() -> str:
    if settings.EMAIL_BACKEND.endswith("filebased.EmailBackend"):
        return f"\nEmails are written to {settings.EMAIL_FILE_PATH}/ (KEFU_EMAIL_URL sends them)."
    return ""


def periodic_entries() -> list[tuple[Any, float]]:
    """Beat's entries other than the timer dispatcher, as (task, interval in seconds).

    Celery finds tasks lazily (at a worker's start); this process is no worker, so each
    task's module is imported here, or its name would not be registered yet."""
    from celery import current_app

    schedule: dict[str, dict[str, Any]] = settings.CELERY_BEAT_SCHEDULE
    entries = []
    for name, entry in schedule.items():
        if name == "dispatch-due-timers":
            continue
        task_name = str(entry["task"])
        importlib.import_module(task_name.rpartition(".")[0])
        entries.append((current_app.tasks[task_name], float(entry["schedule"])))
    return entries


def _run_periodic_tasks(stop: threading.Event) -> None:
    """The embedded mode's beat for everything but the timers: each CELERY_BEAT_SCHEDULE
    entry runs in-process at its interval (tasks are eager here)."""
    entries = periodic_entries()
    due = dict.fromkeys((task.name for task, _ in entries), 0.0)
    while not stop.wait(1.0):
        for task, interval in entries:
            if time.monotonic() < due[task.name]:
                continue
            due[task.name] = time.monotonic() + interval
            try:
                task.apply()
            except Exception:  # one failing job must not stop the others
                logger.exception("Periodic task %s failed", task.name)
            finally:
                with contextlib.suppress(Exception):
                    connection.close()


def _split_addrport(addrport: str) -> tuple[str, int]:
    host, _, port = addrport.rpartition(":")
    host = host.strip("[]") or "127.0.0.1"
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise CommandError(f"{addrport!r} is not host:port or a port number.")
    return host, int(port)


def _check_free(host: str, port: int) -> None:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # The server sets SO_REUSEADDR too, so a socket in TIME_WAIT is not "busy".
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise CommandError(f"Cannot listen on {host}:{port}: {exc.strerror}.") from exc


def _stop_on_sigterm() -> None:
    """SIGTERM ends the server like CONTROL-C does, so the cleanup in ``finally`` runs."""

    def interrupt(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, interrupt)


def _stop_worker(worker: subprocess.Popen[bytes]) -> None:
    if worker.poll() is not None:
        return
    worker.terminate()
    try:
        worker.wait(timeout=CELERY_STOP_SECONDS)
    except subprocess.TimeoutExpired:
        worker.kill()
        worker.wait()


def _timer_interval() -> float:
    """KEFU_TIMER_INTERVAL, as the beat schedule already read it."""
    entry: dict[str, Any] = settings.CELERY_BEAT_SCHEDULE["dispatch-due-timers"]
    return float(entry["schedule"])


def _redacted(url: str) -> str:
    """The broker URL without its password, fit for a console."""
    scheme, sep, rest = url.partition("://")
    credentials, at, location = rest.rpartition("@")
    if not at:
        return url
    user = credentials.partition(":")[0]
    return f"{scheme}{sep}{user}:***@{location}" if user else f"{scheme}{sep}***@{location}"
