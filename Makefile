# The two commands: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := coordination.settings

.PHONY: run test screenshots frontend frontend-test frontend/dist node-check check lint typecheck worker beat bench bench-fixed bench-knee bench-catchup bench-idle bench-vision bench-cases bench-alerts lock messages clean

$(VENV)/.base: requirements/base.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/base.lock
	touch $@

$(VENV)/.dev: requirements/dev.lock $(VENV)/.base
	$(PY) -m pip install --quiet -r requirements/dev.lock
	touch $@

## The web client (frontend/): Node.js 20 or later and npm build it into frontend/dist, which
## the server serves (coordination/webclient.py).
NPM ?= npm
FRONTEND_SOURCES := $(shell find frontend/src frontend/public frontend/scripts -type f 2>/dev/null) \
	frontend/index.html frontend/vite.config.ts $(wildcard frontend/tsconfig*.json)

node-check:
	@command -v node >/dev/null 2>&1 && command -v $(NPM) >/dev/null 2>&1 || { \
	    echo "The web client needs Node.js 20 or later and npm, and they are not installed." >&2; \
	    echo "    Debian/Ubuntu: apt-get install nodejs npm (check: node --version)" >&2; exit 1; }
	@node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' || { \
	    echo "The web client needs Node.js 20 or later; this is $$(node --version)." >&2; exit 1; }

# npm ci again whenever the lock file or package.json is newer than the installed packages.
frontend/node_modules/.installed: frontend/package-lock.json frontend/package.json | node-check
	cd frontend && $(NPM) ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.installed $(FRONTEND_SOURCES) | node-check
	cd frontend && $(NPM) run build
	touch $@

## make frontend: build the web client into frontend/dist (also: make frontend/dist)
frontend frontend/dist: frontend/dist/index.html

## make frontend-test: the web client's unit tests (Vitest) and its type check
frontend-test: frontend/node_modules/.installed
	cd frontend && $(NPM) run typecheck
	cd frontend && $(NPM) test

## make run: build the web client, install, migrate, load the demo data and serve the client,
## the API and the WebSocket on http://$(HOST):$(PORT)/
run: $(VENV)/.base frontend/dist/index.html
	$(PY) manage.py migrate --no-input
	$(PY) manage.py compilemessages --ignore='.venv/*' -v 0
	$(PY) manage.py collectstatic --no-input -v 0
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(PY) -m coordination.server -b $(HOST) -p $(PORT) asgi:application

## make test: install the development tools, build the web client, run its unit tests (Vitest),
## then the whole Python suite, the browser end-to-end tests (tests/e2e) included
test: $(VENV)/.dev frontend/dist/index.html frontend-test
	$(PY) manage.py compilemessages --ignore='.venv/*' -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

## make screenshots: the browser end-to-end tests (tests/e2e), saving their screenshots of the
## main screens into docs/screenshots (committed) rather than var/screenshots (ignored); they
## need DATABASE_URL (PostgreSQL), REDIS_URL and Chromium, and fail without them
screenshots: $(VENV)/.dev frontend/dist/index.html
	$(PY) manage.py compilemessages --ignore='.venv/*' -v 0
	SCREENSHOT_DIR=docs/screenshots REQUIRE_SERVICES=1 $(PY) -m pytest tests/e2e $(PYTEST_ARGS)

## make check: what CI runs besides the tests
check: lint typecheck

lint: $(VENV)/.dev
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/ruff check .

typecheck: $(VENV)/.dev
	$(VENV)/bin/mypy .

## Celery worker and beat, for a deployment with REDIS_URL set
worker: $(VENV)/.base
	$(VENV)/bin/celery -A coordination worker --loglevel=INFO

beat: $(VENV)/.base
	$(VENV)/bin/celery -A coordination beat --loglevel=INFO

## make bench: the WebSocket fan-out benchmark, every mode (needs local PostgreSQL and Redis;
## see benchmarks/README.md). bench-fixed, bench-knee, bench-catchup, bench-idle: one mode each.
## (the command is echoed to stderr, so that `BENCH_ARGS=--json` leaves clean JSON on stdout)
bench: $(VENV)/.dev
	@echo "$(PY) benchmarks/ws_fanout.py $(BENCH_ARGS)" >&2
	@$(PY) benchmarks/ws_fanout.py $(BENCH_ARGS)

bench-fixed bench-knee bench-catchup bench-idle: $(VENV)/.dev
	@echo "$(PY) benchmarks/ws_fanout.py --mode $(@:bench-%=%) $(BENCH_ARGS)" >&2
	@$(PY) benchmarks/ws_fanout.py --mode $(@:bench-%=%) $(BENCH_ARGS)

## make bench-vision: time per analysis stage (12 MP, 3 MP) against OpenCV's decode, preview verdict
bench-vision: $(VENV)/.dev
	$(PY) benchmarks/vision_bench.py --json benchmarks/out/vision.json $(BENCH_ARGS)

## make bench-cases: upload to measurement at a physician's socket, 12 MP phantoms, one Celery
## worker (needs local PostgreSQL and Redis; see benchmarks/README.md)
bench-cases: $(VENV)/.dev
	$(PY) benchmarks/case_pipeline.py $(BENCH_ARGS)

## make bench-alerts: a validation raising an alert, to its push at the referring physician's
## device, through one Celery worker (needs local PostgreSQL and Redis)
bench-alerts: $(VENV)/.dev
	$(PY) benchmarks/alert_push.py $(BENCH_ARGS)

## Regenerate the locked requirements from pyproject.toml
lock: $(VENV)/.dev
	$(VENV)/bin/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links --annotation-style=line -o requirements/base.lock pyproject.toml
	$(VENV)/bin/pip-compile -q --strip-extras --no-header --no-emit-index-url --no-emit-find-links --annotation-style=line --extra dev -o requirements/dev.lock pyproject.toml
	# torch's CPU build carries a local version tag; the plain release pin matches it and PyPI alike
	sed -i 's/^torch==\([0-9.]*\)+cpu/torch==\1/' requirements/dev.lock

messages: $(VENV)/.dev
	$(PY) manage.py makemessages -l fr -l es --ignore='.venv/*' --ignore='frontend/*'

clean:
	rm -rf $(VENV) var staticfiles
