# Grounded: `make run` serves the demo locally; `make test` runs the whole suite on real services.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 8000
# The test suite talks to real PostgreSQL and Redis (CI machines run both on loopback).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/grounded
TEST_BROKER_URL ?= redis://127.0.0.1:6379/15

.PHONY: install install-test run worker test lint services chromium clean up down

install: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed pyproject.toml
	$(PIP) install --quiet -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

install-test: install $(VENV)/.installed-test chromium

run: install
	mkdir -p var
	$(PY) manage.py migrate --noinput
	$(PY) manage.py load_demo
	@echo ""
	@echo "Grounded is starting on http://$(HOST):$(PORT)/ (Ctrl-C stops the server and the worker)"
	bin/run-local $(HOST) $(PORT)

test: install-test services
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	# Models against migrations; no database is needed (an empty in-memory one, so there is
	# no history to check against a database that only the tests create).
	DATABASE_URL=sqlite://:memory: $(PY) manage.py makemigrations --check --dry-run --settings=coding_app.settings.test
	DATABASE_URL=$(TEST_DATABASE_URL) CELERY_BROKER_URL=$(TEST_BROKER_URL) \
	  CELERY_TASK_DEFAULT_QUEUE=grounded-test-$$$$ $(VENV)/bin/pytest
	# The embedded default of `make run` (SQLite): the coding services' portable paths there.
	DATABASE_URL= $(VENV)/bin/pytest -q tests/coding/test_coding_fast_paths.py tests/coding/test_services.py

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

# Start PostgreSQL and Redis if they are not already running (CI machines have both).
services:
	@pg_isready -q -h 127.0.0.1 -p 5432 || pg_ctlcluster --skip-systemctl-redirect $$(ls /etc/postgresql) main start
	@for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
	@redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
	@for i in $$(seq 1 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done

# Browser tests drive Debian's Chromium (Playwright's own browser download does not work offline).
chromium:
	@test -x /usr/bin/chromium || (apt-get update -qq && apt-get install -y -qq chromium)

# The deployment's process set, natively (as docker-compose.yml in containers): gunicorn,
# two Celery workers and the scheduler, against local PostgreSQL and Redis.
up: install services
	bin/up

down:
	bin/down

clean:
	rm -rf $(VENV) node_modules var .pytest_cache
