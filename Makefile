# The two commands: `make run` and `make test`. Everything else is for developers.
SHELL := /bin/bash
PYTHON ?= python3.11
VENV ?= .venv
PY := $(VENV)/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := coordination.settings

.PHONY: run test check lint typecheck worker beat bench bench-fixed bench-knee bench-catchup bench-idle bench-vision bench-cases bench-alerts lock messages clean

$(VENV)/.base: requirements/base.lock
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements/base.lock
	touch $@

$(VENV)/.dev: requirements/dev.lock $(VENV)/.base
	$(PY) -m pip install --quiet -r requirements/dev.lock
	touch $@

## make run: install, migrate, load the demo data and serve on http://$(HOST):$(PORT)/
run: $(VENV)/.base
	$(PY) manage.py migrate --no-input
	$(PY) manage.py compilemessages --ignore='.venv/*' -v 0
	$(PY) manage.py collectstatic --no-input -v 0
	$(PY) manage.py seed_demo
	@echo "Serving on http://$(HOST):$(PORT)/  (Ctrl-C to stop)"
	$(PY) -m coordination.server -b $(HOST) -p $(PORT) asgi:application

## make test: install the development tools and run the whole test suite
test: $(VENV)/.dev
	$(PY) manage.py compilemessages --ignore='.venv/*' -v 0
	$(PY) -m pytest $(PYTEST_ARGS)

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
