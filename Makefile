# Zhongtai 中台 — developer entry points. `make run` serves the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app.factory
# The demo runs on the bundled market snapshot: pin "today" to a date it covers.
BUSINESS_DATE ?= 2025-04-25
export BUSINESS_DATE

# `make run WECOM_FAKE=1`: a fake WeCom (flask wecom fake) runs beside the demo on loopback, the
# connector is configured against it, and simulated staff confirm some of the pushed tasks.
WECOM_FAKE ?=
ifeq ($(WECOM_FAKE),1)
export WECOM_CORP_ID := wwfakecorp
export WECOM_SECRET := fake-secret
export WECOM_API_BASE := http://127.0.0.1:5055/cgi-bin/
export WECOM_CALLBACK_TOKEN := demo-callback-token
export WECOM_CALLBACK_AES_KEY := ZGVtby1vbmx5LWNhbGxiYWNrLWtleS0wMTIzNDU2Nzg
export WECOM_PULL_INTERVAL_SECONDS := 60
endif

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
	@if [ "$(WECOM_FAKE)" = "1" ]; then $(BIN)/flask wecom fake --port 5055 & fi; fake=$$!; \
	  $(BIN)/flask scheduler run & scheduler=$$!; \
	  trap 'kill $$scheduler $$fake 2>/dev/null' EXIT INT TERM; \
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

## test: the whole suite on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set; in
## parallel over the CPU cores (pytest-xdist; TEST_WORKERS=0 runs it in one process)
# Byte-code caches are written even where PYTHONDONTWRITEBYTECODE is set: each xdist worker
# imports the whole app and suite, and compiling it all again costs each process seconds.
TEST_WORKERS ?= auto
test: install
	env -u PYTHONDONTWRITEBYTECODE $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check app tests config.py bench
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/run_day_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache
