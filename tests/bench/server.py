"""The production web topology over loopback: gunicorn (or uvicorn) as a subprocess."""

from __future__ import annotations

import http.client
import sys
import time
from dataclasses import dataclass

from .env import HOST, Service, free_port, wait_for_port


@dataclass(frozen=True)
class ServerConfig:
    key: str
    label: str
    server: str  # "gunicorn" | "uvicorn"
    workers: int

    def argv(self, port: int) -> list[str]:
        if self.server == "gunicorn":
            return [
                sys.executable,
                "-m",
                "gunicorn",
                "project.wsgi",
                "-w",
                str(self.workers),
                "-k",
                "sync",
                "-b",
                f"{HOST}:{port}",
                "--log-level",
                "warning",
                "--timeout",
                "60",
            ]
        return [
            sys.executable,
            "-m",
            "uvicorn",
            "project.asgi:application",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(self.workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ]


GUNICORN_4 = ServerConfig("gunicorn-sync-4", "gunicorn, 4 sync workers", "gunicorn", 4)
GUNICORN_2 = ServerConfig("gunicorn-sync-2", "gunicorn, 2 sync workers", "gunicorn", 2)
UVICORN_4 = ServerConfig("uvicorn-4", "uvicorn (ASGI), 4 workers", "uvicorn", 4)


class RunningServer:
    def __init__(self, config: ServerConfig) -> None:
        self.config = config
        self.port = free_port()
        self.service = Service(config.key, config.argv(self.port))

    def wait_ready(self, token: str, timeout: float = 60.0) -> None:
        """Listening, and the app answers an authenticated request."""
        wait_for_port(self.port, self.service, timeout)
        deadline = time.monotonic() + timeout
        last = ""
        while time.monotonic() < deadline:
            conn = http.client.HTTPConnection(HOST, self.port, timeout=10)
            try:
                conn.request("GET", "/api/me/", headers={"Authorization": f"Token {token}"})
                response = conn.getresponse()
                body = response.read()
                if response.status == 200:
                    return
                last = f"HTTP {response.status}: {body[:300]!r}"
            except (OSError, http.client.HTTPException) as exc:
                last = repr(exc)
            finally:
                conn.close()
            time.sleep(0.2)
        raise RuntimeError(f"{self.config.label} not ready: {last}\n{self.service.tail()}")

    def stop(self) -> None:
        self.service.stop()
