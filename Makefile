# Zhongtai 中台 — developer entry points. `make run` serves the demo; `make test` runs the suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := app
# The demo runs on the bundled market snapshot: pin "today" to a date it covers.
BUSINESS_DATE ?= 2025-04-25
export BUSINESS_DATE

.PHONY: install run test lint bench seed clean

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

## test: the whole suite on SQLite, or on PostgreSQL when TEST_DATABASE_URL is set; in
## parallel over the CPU cores (pytest-xdist; TEST_WORKERS=0 runs it in one process)
TEST_WORKERS ?= auto
test: install
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadgroup

lint: install
	$(BIN)/ruff check app tests config.py bench
	$(BIN)/lint-imports

bench: install
	$(BIN)/python bench/run_day_bench.py

clean:
	rm -rf $(VENV) instance .pytest_cache
