# govportal — the two commands a newcomer runs are `make demo` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
SIM_PORT ?= 8766
MANAGE := $(BIN)/python manage.py

# The zero-setup demo: DEBUG on, SQLite file and eager Celery unless DATABASE_URL / REDIS_URL
# are set in the environment.
DEMO_ENV := DEBUG=$${DEBUG:-true} SITE_URL=$${SITE_URL:-http://127.0.0.1:$(PORT)} \
            DEMO_SIMULATOR_PORT=$(SIM_PORT)

.PHONY: demo test check lint fmt worker beat bench messages schema services system-deps \
        install install-dev clean lock runtime-check check-deploy

# --- environments -------------------------------------------------------------------------
# Installs come from the hashed locks only (pip --require-hashes): requirements.lock is the
# whole runtime tree, requirements-dev.lock the same plus the test tools. requirements*.txt
# are what people edit; `make lock` turns them into the locks (docs/deploy.md, DEVELOPERS.md).
PIP_LOCKED := $(BIN)/pip install -q --require-hashes
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.runtime: requirements.lock | $(BIN)/python
	$(PIP_LOCKED) -r requirements.lock
	touch $@

$(VENV)/.dev: requirements.lock requirements-dev.lock | $(BIN)/python
	$(PIP_LOCKED) -r requirements-dev.lock
	touch $@ $(VENV)/.runtime

# Regenerate both locks after editing requirements*.txt. Pins already in a lock are kept unless
# requirements*.txt changes them; `make lock LOCK_ARGS=--upgrade` moves everything to the newest
# allowed versions (`LOCK_ARGS="--upgrade-package django"` just one). The dev lock is
# constrained by the runtime lock, so both hold the same runtime versions.
UV_COMPILE = $(BIN)/uv pip compile --quiet --generate-hashes --no-strip-extras --universal \
             --python-version 3.11 --custom-compile-command "make lock" $(LOCK_ARGS)
lock: | $(BIN)/python
	@test -x $(BIN)/uv || $(BIN)/pip install -q "$$(grep '^uv==' requirements-dev.txt)"
	$(UV_COMPILE) -o requirements.lock requirements.txt
	$(UV_COMPILE) -c requirements.lock -o requirements-dev.lock requirements-dev.txt
	@$(PYTHON) scripts/check_lock.py

# The runtime set alone, in var/runtime-venv (issue 17): imports, check --deploy, PostgreSQL,
# gunicorn, Celery worker + beat on Redis, one case to the department simulator and back.
runtime-check: services
	$(PYTHON) scripts/runtime_check.py

install: $(VENV)/.runtime
install-dev: $(VENV)/.dev

system-deps:
	@scripts/ensure_system.sh

services:
	@scripts/ensure_services.sh

messages: install
	$(DEMO_ENV) $(MANAGE) compilemessages --ignore=$(VENV) --locale en -v 0

# --- the two commands ---------------------------------------------------------------------
# Migrate, load the demo data and serve it like production (gunicorn, worker + beat with
# REDIS_URL, the department simulators); a short summary on the console, logs in var/.
demo: install messages
	@BIN=$(BIN) PORT=$(PORT) SIM_PORT=$(SIM_PORT) scripts/demo.sh

test: install-dev system-deps services check runtime-check
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# --- quality ------------------------------------------------------------------------------
# Django checks run with the test environment (PostgreSQL), like the suite.
TEST_ENV := DATABASE_URL=$${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/govportal} \
            REDIS_URL=$${REDIS_URL:-redis://127.0.0.1:6379/15} SECRET_KEY=$${SECRET_KEY:-check-only} \
            CELERY_TASK_ALWAYS_EAGER=true \
            PII_KEYS=$${PII_KEYS:-Y2hlY2stb25seS1rZXktY2hlY2stb25seS1rZXktMDA=} \
            PII_INDEX_KEY=$${PII_INDEX_KEY:-check-only} OIDC_ENABLED=$${OIDC_ENABLED:-false}

check: install-dev messages
	$(PYTHON) scripts/check_lock.py
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(TEST_ENV) $(MANAGE) check --fail-level WARNING
	$(TEST_ENV) $(MANAGE) makemigrations --check --dry-run

lint:
	$(BIN)/ruff check .

fmt:
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# Production-like deploy check; the warnings left are documented in docs/deploy.md.
check-deploy: install
	DEBUG=false SECRET_KEY=$$(head -c 48 /dev/urandom | base64) SECURE_SSL_REDIRECT=true \
	SECURE_HSTS_SECONDS=31536000 SECURE_COOKIES=true ALLOWED_HOSTS=portal.example.gov.cn \
	PII_KEYS=$$($(BIN)/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())') \
	PII_INDEX_KEY=$$(head -c 32 /dev/urandom | base64) OIDC_ENABLED=false \
	$(MANAGE) check --deploy

worker: install
	$(DEMO_ENV) $(BIN)/celery -A govportal worker -B -l info --concurrency 2

bench: install-dev services
	$(BIN)/python -m bench

schema: install
	$(DEMO_ENV) $(MANAGE) spectacular --file var/openapi.yaml --validate

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache
