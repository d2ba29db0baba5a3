"""Structured logs with a request id (issue 8, operations; docs/operations.md, "Logs").

Every request answers an ``X-Request-ID`` (the client's when sane, else a new one); with
``KEFU_LOG_FORMAT=json`` each log line is one JSON object carrying it, still redacted; and a
task queued by a request carries the id through the broker into the worker's log lines.
The JSON lines are read from the stderr of a separate process configured as a server is.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import structlog
from celery import Task
from celery.signals import task_postrun, task_prerun
from django.conf import settings
from django.test import Client
from kombu import Connection

from project import request_id
from project.celery import app
from project.log_secrets import json_formatter

ROOT = Path(__file__).resolve().parents[2]
SURVEY_KEY = "I6eDmGilKNRfjB7K0bqWXcjPtBdEQutOHNBiCFr7Pbc"


@pytest.fixture(autouse=True)
def _no_bound_context() -> Iterator[None]:
    structlog.contextvars.clear_contextvars()
    yield
    structlog.contextvars.clear_contextvars()


# --- the header -------------------------------------------------------------------------
def test_a_request_gets_a_new_request_id(client: Client) -> None:
    first = client.get("/healthz")["X-Request-ID"]
    second = client.get("/healthz")["X-Request-ID"]
    assert len(first) == 32 and int(first, 16) >= 0
    assert first != second


def test_a_sane_request_id_is_echoed(client: Client) -> None:
    sent = "edge-7f3a.B_" + "x" * 52  # 64 characters of [A-Za-z0-9._-]
    response = client.get("/healthz", HTTP_X_REQUEST_ID=sent)
    assert response["X-Request-ID"] == sent


@pytest.mark.parametrize(
    "sent", ["", "a" * 65, "two words", "id\u00e9", "x;rm -rf", '{"json": 1}', "a/b", "\t"]
)
def test_an_insane_request_id_is_replaced(client: Client, sent: str) -> None:
    answered = client.get("/healthz", HTTP_X_REQUEST_ID=sent)["X-Request-ID"]
    assert answered != sent and len(answered) == 32 and int(answered, 16) >= 0


def test_the_request_id_is_not_left_bound_after_the_request(client: Client) -> None:
    client.get("/healthz", HTTP_X_REQUEST_ID="done-1")
    assert request_id.current() is None


# --- JSON lines, from a process configured as a server is -------------------------------
_SCRIPT = textwrap.dedent(
    """
    import logging, django
    django.setup()
    from django.test import Client

    client = Client(raise_request_exception=False)
    client.get("/api/no-such-thing/?token=s3cret-token", HTTP_X_REQUEST_ID="req-404")
    client.get("/s/{key}/?ticket=t1ck3t", HTTP_X_REQUEST_ID="bad id!")
    log = logging.getLogger("kefu.probe")
    log.warning("outside %s", "/ws/queue/?token=s3cret-token")
    try:
        raise ValueError("broken /s/{key}/")
    except ValueError:
        log.exception("failed")
    """
).format(key=SURVEY_KEY)


def _run_logging(log_format: str | None) -> str:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "project.settings", "KEFU_LOG_LEVEL": "INFO"}
    env.pop("KEFU_LOG_FORMAT", None)
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if log_format is not None:
        env["KEFU_LOG_FORMAT"] = log_format
    done = subprocess.run(
        [sys.executable, "-c", _SCRIPT],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def _timestamp(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    assert parsed.utcoffset() == timedelta(0)
    return parsed


@pytest.mark.django_db
def test_json_lines_carry_the_request_id_and_keep_secrets_out() -> None:
    stderr = _run_logging("json")
    lines = [json.loads(line) for line in stderr.splitlines() if line.strip()]  # all JSON
    assert lines
    for line in lines:
        assert {"timestamp", "level", "logger", "message"} <= set(line), line
        _timestamp(line["timestamp"])

    not_found = [x for x in lines if x["message"] == "Not Found: /api/no-such-thing/"]
    assert len(not_found) == 1, lines
    assert not_found[0]["request_id"] == "req-404"
    assert not_found[0]["level"] == "warning" and not_found[0]["logger"] == "django.request"

    survey = [x for x in lines if x["logger"] == "django.request" and "/s/" in x["message"]]
    assert survey and all("/s/[redacted]/" in x["message"] for x in survey), lines
    assert all(len(x["request_id"]) == 32 for x in survey)  # "bad id!" was replaced

    probe = [x for x in lines if x["logger"] == "kefu.probe"]
    assert [x["message"] for x in probe] == ["outside /ws/queue/?token=[redacted]", "failed"]
    assert all("request_id" not in x for x in probe)  # no request: no id
    assert probe[1]["level"] == "error"
    assert "ValueError: broken /s/[redacted]/" in probe[1]["exception"]
    assert "Traceback" in probe[1]["exception"]

    for secret in ("s3cret-token", "t1ck3t", SURVEY_KEY):
        assert secret not in stderr


@pytest.mark.django_db
def test_text_is_the_development_default_and_still_redacted() -> None:
    stderr = _run_logging(None)
    assert "Not Found: /api/no-such-thing/" in stderr
    assert not stderr.lstrip().startswith("{")
    assert "outside /ws/queue/?token=[redacted]" in stderr
    for secret in ("s3cret-token", "t1ck3t"):  # (a traceback's text is redacted in JSON only)
        assert secret not in stderr


def test_the_json_formatter_adds_the_bound_request_id() -> None:
    record = logging.LogRecord(
        "uvicorn.access", logging.INFO, __file__, 1, '%s - "%s %s HTTP/%s" %d',
        ("127.0.0.1:1", "GET", "/api/me/?token=abc", "1.1", 200), None,
    )  # fmt: skip
    with structlog.contextvars.bound_contextvars(request_id="r-1"):
        line = json.loads(json_formatter().format(record))
    assert line["request_id"] == "r-1" and line["logger"] == "uvicorn.access"
    assert line["message"] == '127.0.0.1:1 - "GET /api/me/?token=[redacted] HTTP/1.1" 200'


# --- into Celery ------------------------------------------------------------------------
@app.task(bind=True, name="tests.ops.logging_probe")
def logging_probe(self: Task) -> str | None:
    logging.getLogger("kefu.probe.task").warning("in the task")
    return request_id.current()


@pytest.mark.redis
def test_a_published_task_carries_the_request_id_to_the_worker() -> None:
    """Published to the real broker from within a request's context, read back off its
    queue; then run by Celery's tracer (as a worker runs it) with the message's headers."""
    assert settings.CELERY_BROKER_URL.startswith("redis://")
    queue = f"kefu-logging-test-{uuid.uuid4().hex}"
    with Connection(settings.CELERY_BROKER_URL) as connection:
        simple = connection.SimpleQueue(queue)  # declared before the publish
        try:
            with structlog.contextvars.bound_contextvars(request_id="req-celery-1"):
                app.send_task(logging_probe.name, queue=queue, routing_key=queue)
            message = simple.get(timeout=5)
            message.ack()
        finally:
            simple.queue.delete()
            simple.close()
    assert message.headers["request_id"] == "req-celery-1"
    assert message.headers["task"] == logging_probe.name

    assert request_id.current() is None
    result = logging_probe.apply(headers=message.headers)
    assert result.get() == "req-celery-1"  # bound in the task by task_prerun
    assert request_id.current() is None  # and gone after it (task_postrun)


@pytest.mark.redis
def test_a_task_published_outside_a_request_has_no_request_id() -> None:
    headers: dict[str, Any] = {}
    request_id.add_to_task_headers(headers=headers)
    assert headers == {}
    assert logging_probe.apply().get() is None


def test_the_worker_binds_the_header_of_its_request_and_restores_after() -> None:
    """A worker puts the message's headers on ``task.request``: the signals as it sends them."""
    logging_probe.push_request(id="t-1", request_id="req-worker-1")
    try:
        with structlog.contextvars.bound_contextvars(other="kept"):
            task_prerun.send(sender=logging_probe, task_id="t-1", task=logging_probe)
            assert structlog.contextvars.get_contextvars() == {
                "other": "kept",
                "request_id": "req-worker-1",
            }
            task_postrun.send(sender=logging_probe, task_id="t-1", task=logging_probe)
            assert structlog.contextvars.get_contextvars() == {"other": "kept"}
    finally:
        logging_probe.pop_request()


def test_an_eager_task_keeps_the_id_of_the_request_it_runs_in() -> None:
    """Embedded mode: no publish, the task runs in the request's own context."""
    with structlog.contextvars.bound_contextvars(request_id="req-eager"):
        assert logging_probe.apply().get() == "req-eager"
        assert request_id.current() == "req-eager"  # postrun leaves the request's id alone


def test_the_log_format_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    from django.core.exceptions import ImproperlyConfigured

    from project.log_secrets import log_format

    monkeypatch.delenv("KEFU_LOG_FORMAT", raising=False)
    monkeypatch.setenv("KEFU_ENV", "production")
    assert log_format() == "json"
    monkeypatch.setenv("KEFU_ENV", "development")
    assert log_format() == "text"
    monkeypatch.setenv("KEFU_LOG_FORMAT", "JSON")
    assert log_format() == "json"
    monkeypatch.setenv("KEFU_LOG_FORMAT", "xml")
    with pytest.raises(ImproperlyConfigured):
        log_format()
