# The two commands: `make run` serves the demo, `make test` runs every check.
# Both install what they need and can be run again and again.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
RUNTIME_STAMP := $(VENV)/.runtime-installed
TEST_STAMP := $(VENV)/.test-installed
RUNTIME_LOCK := requirements/runtime.txt
TEST_LOCK := requirements/test.txt
UV_VERSION := 0.13.9
LOCK_FLAGS := --quiet --universal --python-version 3.11 --generate-hashes
DB_URL ?= sqlite+aiosqlite:///var/samkonsult.db
# The demo runs in demo mode: development secrets are generated once into var/ (never the repo).
DEMO_ENV = SAMKONSULT_DATABASE_URL=$${SAMKONSULT_DATABASE_URL:-$(DB_URL)} SAMKONSULT_DEMO_MODE=true

.PHONY: run test lint typecheck pytest bench install install-test system-packages clean lock

run: $(RUNTIME_STAMP)
	@mkdir -p var
	$(DEMO_ENV) $(BIN)/samkonsult migrate
	$(DEMO_ENV) $(BIN)/samkonsult seed-demo --if-empty
	$(DEMO_ENV) SAMKONSULT_DEMO_RELAX_TOTP=$${SAMKONSULT_DEMO_RELAX_TOTP:-true} $(BIN)/samkonsult serve

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Installs come from the lock files only: exact versions, every file checked against its hash.
# The project itself goes in editable with --no-deps, so nothing unlocked slips in beside it.
$(RUNTIME_STAMP): $(RUNTIME_LOCK) pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet --require-hashes -r $(RUNTIME_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@

$(TEST_STAMP): $(TEST_LOCK) pyproject.toml | $(VENV)/bin/python
	$(BIN)/pip install --quiet --require-hashes -r $(TEST_LOCK)
	$(BIN)/pip install --quiet --no-deps -e .
	@touch $@ $(RUNTIME_STAMP)

# Refresh the lock files from pyproject.toml, keeping every pin that still fits;
# `make lock UPGRADE=aiohttp` moves that one package to its newest release.
lock: | $(VENV)/bin/python
	$(BIN)/pip install --quiet 'uv==$(UV_VERSION)'
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) --extra test -o $(TEST_LOCK) $(if $(UPGRADE),--upgrade-package $(UPGRADE))
	$(BIN)/uv pip compile pyproject.toml $(LOCK_FLAGS) -c $(TEST_LOCK) -o $(RUNTIME_LOCK)

install: $(RUNTIME_STAMP)
install-test: $(TEST_STAMP)

system-packages:
	@bash scripts/install-system-packages.sh

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports --no-cache

typecheck: $(TEST_STAMP)
	$(BIN)/mypy server web signaling rooms scheduling notes recordings_policy

pytest: $(TEST_STAMP) system-packages
	bash scripts/with-postgres.sh $(BIN)/pytest -q -p no:cacheprovider --durations=30 $(PYTEST_ARGS)

test: lint typecheck pytest

bench: $(TEST_STAMP)
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

clean:
	rm -rf $(VENV) var .mypy_cache .ruff_cache .pytest_cache
