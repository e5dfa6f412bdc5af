# Two commands do all the set-up on a fresh machine (Python 3.11+, Node.js for newman):
#   make serve   the API on http://127.0.0.1:8000/api (SQLite file ./conduit.db by default)
#   make test    every check CI runs: lint, types, import contracts, all tests (Postgres and
#                Redis included), and the official RealWorld suite on SQLite and Postgres.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
NEWMAN := .tools/node_modules/.bin/newman
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

.PHONY: serve test lint unit realworld bench clean

$(BIN)/conduit: pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(NEWMAN):
	npm install --prefix .tools --no-fund --no-audit --silent newman@6
	touch $@

serve: $(BIN)/conduit
	$(BIN)/conduit serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: $(BIN)/conduit
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

# The fast inner loop: no services needed (memory and SQLite backends only).
unit: $(BIN)/conduit
	$(BIN)/pytest -q -m "not postgres and not redis" tests

realworld: $(BIN)/conduit $(NEWMAN)
	$(BIN)/python scripts/realworld_suite.py sqlite
	$(BIN)/python scripts/realworld_suite.py postgres

test: lint $(NEWMAN)
	$(BIN)/pytest tests
	$(MAKE) --no-print-directory realworld

bench: $(BIN)/conduit
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .tools .mypy_cache .ruff_cache .pytest_cache .hypothesis
