"""Configuration from the environment (README, .env.example)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PRINT = (
    "import django, json; django.setup(); from django.conf import settings as s; "
    "print(json.dumps({'debug': s.DEBUG, 'engine': s.DATABASES['default']['ENGINE'], "
    "'cache': s.CACHES['default'].get('LOCATION', ''), 'broker': s.CELERY_BROKER_URL, "
    "'email': [s.EMAIL_BACKEND, getattr(s, 'EMAIL_HOST', ''), getattr(s, 'EMAIL_PORT', 0)]}))"
)


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEFU_")}
    clean["DJANGO_SETTINGS_MODULE"] = "project.settings"
    return subprocess.run(
        [sys.executable, "-c", PRINT],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_production_refuses_to_start_without_a_secret_key() -> None:
    result = run_settings(KEFU_ENV="production")

    assert result.returncode != 0
    assert "KEFU_SECRET_KEY is required" in result.stderr


def test_production_with_a_key_starts_without_debug() -> None:
    result = run_settings(KEFU_ENV="production", KEFU_SECRET_KEY="s3cret-for-this-test")

    assert result.returncode == 0, result.stderr
    assert '"debug": false' in result.stdout


def test_embedded_defaults() -> None:
    result = run_settings()

    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.sqlite3"' in result.stdout
    assert '"broker": "memory://"' in result.stdout
    assert "filebased.EmailBackend" in result.stdout


def test_services_from_urls() -> None:
    result = run_settings(
        KEFU_DATABASE_URL="postgres://kefu@127.0.0.1:5432/kefu",
        KEFU_REDIS_URL="redis://127.0.0.1:6379/2",
        KEFU_EMAIL_URL="smtp://127.0.0.1:8025",
    )

    assert result.returncode == 0, result.stderr
    assert '"engine": "django.db.backends.postgresql"' in result.stdout
    assert '"cache": "redis://127.0.0.1:6379/3"' in result.stdout  # never the broker's db
    assert '"broker": "redis://127.0.0.1:6379/2"' in result.stdout
    assert '"email": ["django.core.mail.backends.smtp.EmailBackend", "127.0.0.1", 8025]' in (
        result.stdout
    )


def test_unknown_email_scheme_is_refused() -> None:
    result = run_settings(KEFU_EMAIL_URL="pigeon://loft")

    assert result.returncode != 0
    assert "KEFU_EMAIL_URL" in result.stderr
