"""Headers and error pages that keep a browser safe by default (issue 8, item 7)."""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from project.security import CSP
from tests.processes import terminate
from tests.test_serve import ROOT, _embedded_env, _free_port


def test_every_page_carries_the_content_security_policy(db: Any) -> None:
    response = Client().get("/login/")
    policy = response["Content-Security-Policy"]
    assert policy == CSP
    assert "script-src 'self';" in policy and "frame-ancestors 'none'" in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    # Swagger UI alone needs its inline start-up script.
    docs = Client().get("/api/docs/")["Content-Security-Policy"]
    assert "script-src 'self' 'unsafe-inline'" in docs


@pytest.mark.parametrize("address", ["10.1.2.3", "192.168.0.7"])
def test_the_debug_pages_are_not_shown_beyond_this_machine(settings: Any, address: str) -> None:
    settings.DEBUG = True
    settings.ROOT_URLCONF = "tests.security.boom_urls"
    client = Client(raise_request_exception=False, REMOTE_ADDR=address)

    failed = client.get("/boom/", HTTP_ACCEPT="text/html")
    missing = client.get("/nowhere/", HTTP_ACCEPT="text/html")

    assert failed.status_code == 500 and missing.status_code == 404
    for response in (failed, missing):
        body = response.content.decode()
        assert "Traceback" not in body and "DATABASES" not in body
        assert "REDIS_URL" not in body and "URLconf" not in body


def test_this_machine_sees_the_debug_page_without_connection_urls(settings: Any) -> None:
    settings.DEBUG = True
    settings.ROOT_URLCONF = "tests.security.boom_urls"
    settings.REDIS_URL = "redis://:s3cret-password@redis.internal:6379/0"
    client = Client(raise_request_exception=False, REMOTE_ADDR="127.0.0.1")

    body = client.get("/boom/", HTTP_ACCEPT="text/html").content.decode()

    assert "RuntimeError" in body  # the developer's own page, with its traceback
    assert "s3cret-password" not in body


def _settings_of(env: dict[str, str], *names: str) -> list[str]:
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        f"print(*[repr(getattr(settings, n, None)) for n in {list(names)!r}], sep='\\n')\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.split("\n")[: len(names)]


def test_production_insists_on_https(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path / "kefu.sqlite3")
    env.update({"KEFU_ENV": "production", "KEFU_SECRET_KEY": "x" * 50})
    redirect, hsts, proxy = _settings_of(
        env, "SECURE_SSL_REDIRECT", "SECURE_HSTS_SECONDS", "SECURE_PROXY_SSL_HEADER"
    )
    assert (redirect, hsts, proxy) == ("True", "31536000", "None")
    env["KEFU_TRUSTED_PROXIES"] = "1"
    assert _settings_of(env, "SECURE_PROXY_SSL_HEADER") == ["('HTTP_X_FORWARDED_PROTO', 'https')"]
    development = _embedded_env(tmp_path / "kefu.sqlite3")
    assert _settings_of(development, "SECURE_SSL_REDIRECT") == ["False"]


def test_production_serve_collects_and_serves_its_static_files(tmp_path: Path) -> None:
    env = _embedded_env(tmp_path / "kefu.sqlite3")
    env.update(
        {
            "KEFU_ENV": "production",
            "KEFU_SECRET_KEY": "y" * 50,
            "KEFU_HTTPS_REDIRECT": "0",  # no TLS proxy in front of this test
            "KEFU_STATIC_ROOT": str(tmp_path / "static"),
            "KEFU_MAIL_DIR": str(tmp_path / "mail"),
        }
    )
    manage = [sys.executable, "manage.py"]
    subprocess.run([*manage, "migrate", "-v0"], cwd=ROOT, env=env, check=True, capture_output=True)
    port = _free_port()
    log = (tmp_path / "serve.log").open("wb")
    process = subprocess.Popen(
        [*manage, "serve", f"127.0.0.1:{port}"], cwd=ROOT, env=env, stdout=log, stderr=log
    )
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):  # polling a starting server, not standing in for a result
            assert process.poll() is None, (tmp_path / "serve.log").read_text()
            try:
                with urllib.request.urlopen(f"{base}/static/web/kefu.css", timeout=2) as answer:
                    assert answer.status == 200
                    assert b".topbar" in answer.read()
                    break
            except OSError:
                import time

                time.sleep(0.1)
        else:
            raise AssertionError((tmp_path / "serve.log").read_text())
        assert (tmp_path / "static" / "web" / "kefu.js").exists()
    finally:
        terminate(process)
        log.close()
    assert os.environ.get("KEFU_ENV") != "production"  # this process was left alone


def test_behind_a_trusted_proxy_the_debug_page_follows_the_real_client(settings: Any) -> None:
    """The proxy itself is on this machine: its address must not open the debug page to the
    client it forwards."""
    settings.DEBUG = True
    settings.ROOT_URLCONF = "tests.security.boom_urls"
    settings.KEFU_TRUSTED_PROXIES = 1
    via_proxy = Client(raise_request_exception=False, REMOTE_ADDR="127.0.0.1")

    remote = via_proxy.get("/boom/", HTTP_ACCEPT="text/html", HTTP_X_FORWARDED_FOR="203.0.113.9")
    unsaid = via_proxy.get("/boom/", HTTP_ACCEPT="text/html")
    local = via_proxy.get("/boom/", HTTP_ACCEPT="text/html", HTTP_X_FORWARDED_FOR="127.0.0.1")

    assert "Traceback" not in remote.content.decode()
    assert "Traceback" not in unsaid.content.decode()
    assert "RuntimeError" in local.content.decode()
