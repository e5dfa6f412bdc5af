# Two commands do all the set-up on a fresh machine (Python 3.11+; Node.js for the RealWorld suite):
#   make serve   the API on http://127.0.0.1:8000/api (SQLite file ./conduit.db by default)
#   make test    every check CI runs: lint, types, import contracts, all tests with coverage
#                (Postgres and Redis included), and the official RealWorld suite on SQLite and
#                Postgres.
# Installs are locked: `uv sync --locked` installs exactly what uv.lock lists (see CONTRIBUTING.md
# to upgrade it). uv itself is installed into .tools/uv from PyPI when it is not on PATH.
PYTHON ?= python3
UV_VERSION := 0.13.9
UV ?= $(shell command -v uv 2>/dev/null || echo .tools/uv/bin/uv)
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 1

# Some machines (CI's among them) set PYTHONDONTWRITEBYTECODE=1: every process then compiles
# every module from source again, and the live-server tests start ~40 processes. Keep the
# bytecode, but under .tools/ rather than in __pycache__ folders beside the sources.
unexport PYTHONDONTWRITEBYTECODE
export PYTHONPYCACHEPREFIX ?= $(CURDIR)/.tools/pycache

.PHONY: serve test lint unit faults realworld bench clean

.tools/uv/bin/uv:
	$(PYTHON) -m venv .tools/uv
	.tools/uv/bin/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

# --compile-bytecode: the dependencies' .pyc are written once, here, beside them. Without them,
# where PYTHONDONTWRITEBYTECODE=1 is set, every process started outside make (.venv/bin/conduit,
# bench/run.py's servers) compiles every module it imports from source: each server worker
# paid ~3 s of CPU at start, and ~11 MB of its resident memory stayed with the compiler's
# garbage. The Dockerfile does the same (UV_COMPILE_BYTECODE=1).
$(VENV)/.synced: pyproject.toml uv.lock | $(UV)
	$(UV) sync --locked --compile-bytecode --python $(PYTHON)
	touch $@

serve: $(VENV)/.synced
	$(BIN)/conduit serve --host $(HOST) --port $(PORT) --workers $(WORKERS)

lint: $(VENV)/.synced
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/lint-imports

# The fast inner loop, no services needed: tests/unit, the contract suites on memory and SQLite,
# tests/api and tests/security on the in-memory backend (see README: what it leaves out).
unit: $(VENV)/.synced
	$(BIN)/pytest -q --inner-loop tests/unit tests/contract tests/api tests/security

# The fault suite alone (live processes, real Postgres and Redis, a throwaway Postgres cluster);
# `make test` runs it too, with everything under tests/.
faults: $(VENV)/.synced
	$(BIN)/pytest -q -m faults tests/faults

realworld: $(VENV)/.synced
	$(BIN)/python scripts/realworld_suite.py sqlite postgres

test: lint
	$(BIN)/pytest tests --cov  # --cov last: its optional value would swallow "tests"
	$(MAKE) --no-print-directory realworld

# Conduit against its floor under wrk (bench/README.md); needs Postgres on 127.0.0.1:5432 and
# Redis (it says so in one line otherwise). `make bench BENCH_ARGS=--quick` for a smoke run.
BENCH_ARGS ?=
bench: $(VENV)/.synced
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .tools scripts/newman/node_modules .mypy_cache .ruff_cache .pytest_cache \
		.hypothesis .coverage
