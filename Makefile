# Kefu: `make run` serves the demo at http://127.0.0.1:8000; `make test` runs every check.
PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.kefu-installed
HOST   ?= 127.0.0.1:8000

.PHONY: install run test check lint format typecheck imports migrations-check bench clean deploy-local

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

install: $(STAMP)

# Links in emails point where the server listens unless KEFU_SITE_URL says otherwise.
run: $(STAMP)
	@export KEFU_SITE_URL="$${KEFU_SITE_URL:-http://$(HOST)}"; \
	$(BIN)/python manage.py migrate --noinput -v 0 && \
	$(BIN)/python manage.py load_demo && \
	exec $(BIN)/python manage.py serve $(HOST)

check: lint typecheck imports migrations-check

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

typecheck: $(STAMP)
	$(BIN)/mypy .

# The import rule between the platform and the process apps (pyproject.toml, docs/platform.md).
imports: $(STAMP)
	$(BIN)/lint-imports

migrations-check: $(STAMP)
	$(BIN)/python manage.py makemigrations --check --dry-run

test: $(STAMP) check
	$(BIN)/python -m pytest

bench: $(STAMP)
	$(BIN)/python -m tests.bench

clean:
	rm -rf $(VENV) kefu.sqlite3 .mypy_cache .ruff_cache .pytest_cache

# The production topology on this machine (docs/deploy.md): nginx with TLS, gunicorn, two
# uvicorn socket processes, a Celery worker and two beats, under honcho (deploy/Procfile).
DEPLOY_ENV ?= var/deploy.env
deploy-local: $(STAMP)
	@mkdir -p var && test -f $(DEPLOY_ENV) || sed \
	  "s/^KEFU_SECRET_KEY=.*/KEFU_SECRET_KEY=$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')/" \
	  deploy/env.example > $(DEPLOY_ENV)
	@set -a; . "$(abspath $(DEPLOY_ENV))"; set +a; \
	mkdir -p "$$(dirname "$$KEFU_TLS_CERT")" "$$KEFU_DEPLOY_DIR" && \
	{ test -f "$$KEFU_TLS_CERT" || openssl req -x509 -newkey rsa:2048 -nodes -days 30 \
	  -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
	  -keyout "$$KEFU_TLS_KEY" -out "$$KEFU_TLS_CERT" 2>/dev/null; } && \
	$(BIN)/python manage.py migrate --noinput -v 0 && \
	$(BIN)/python manage.py collectstatic --noinput -v 0 && \
	PATH="$(CURDIR)/$(BIN):$$PATH" exec $(BIN)/honcho -f deploy/Procfile -d . -e $(DEPLOY_ENV) start
