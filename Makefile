# Zhongtai 中台 — developer entry points. `make run` serves the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app
# The demo runs on the bundled market snapshot: pin "today" to a date it covers.
BUSINESS_DATE ?= 2025-04-25
export BUSINESS_DATE

.PHONY: install run serve test lint bench seed clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $(STAMP)

install: $(STAMP)

## run: create .venv, migrate, seed the demo once, serve http://127.0.0.1:5000 with the scheduler
run: install
	$(BIN)/flask db upgrade
	$(BIN)/flask demo seed
	$(BIN)/flask demo logins
	@$(BIN)/flask scheduler run & scheduler=$$!; \
	  trap 'kill $$scheduler 2>/dev/null' EXIT INT TERM; \
	  $(BIN)/flask run --host 127.0.0.1 --port 5000 --no-reload

## serve: the production-like stack on PostgreSQL and Redis: gunicorn (gunicorn.conf.py),
## the scheduler and a task worker, JSON logs. Demo data and the pinned demo date stay (which
## production refuses), so it runs as ZHONGTAI_ENV=development with production's processes.
SERVE_DATABASE_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/zhongtai
SERVE_REDIS_URL ?= redis://127.0.0.1:6379
serve: install
	@psql "$$(echo '$(SERVE_DATABASE_URL)' | sed 's/+psycopg//')" -c 'SELECT 1' >/dev/null 2>&1 || \
	  createdb -h 127.0.0.1 -U postgres "$$(basename '$(SERVE_DATABASE_URL)')"
	DATABASE_URL=$(SERVE_DATABASE_URL) RATELIMIT_STORAGE_URI=$(SERVE_REDIS_URL)/0 \
	TASK_QUEUE_URL=$(SERVE_REDIS_URL)/1 LOG_FORMAT=json bash deploy/serve_stack.sh

## test: the whole suite (SQLite; PostgreSQL too when TEST_DATABASE_URL is set)
test: install
	$(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check app tests config.py bench
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/run_day_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache
