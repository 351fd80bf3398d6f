# Two commands matter: `make sandbox` (install + open the app against the local AWS emulator)
# and `make test` (install everything tests need, then lint, type-check and run every test).
# `make test-fast` is `make test` without the tests marked `slow`, for the edit-test loop; CI runs `make test`.
SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin

.PHONY: sandbox install test test-fast lint typecheck pytest system-deps screenshot clean

$(BIN)/python:
	bash .ci/system-deps.sh venv
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

# Non-editable on purpose: what runs is what `pip install .` ships, assets included. The stamp makes
# `make sandbox` reinstall only when something that goes into the wheel changed.
SOURCES := pyproject.toml README.md $(shell find refarch_tui screens assets -type f -not -path '*/__pycache__/*' 2>/dev/null)
STAMP := $(VENV)/.installed

$(STAMP): $(BIN)/python $(SOURCES)
	$(BIN)/python -m pip install -q .
	touch $@

install: $(STAMP)

sandbox: install
	$(BIN)/refarch-tui sandbox

system-deps:
	bash .ci/system-deps.sh test

test test-fast: system-deps $(BIN)/python
	$(BIN)/python -m pip install -q ".[test]"
	touch $(STAMP)
	$(MAKE) lint typecheck pytest PYTEST_ARGS='$(if $(filter test-fast,$@),-m "not slow") $(PYTEST_ARGS)'

lint:
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

typecheck:
	$(BIN)/mypy

pytest:
	bash tests/with-keyring.sh $(BIN)/python -m pytest $(PYTEST_ARGS)

# Regenerates docs/home.svg, the README's screenshot of the home screen (sandbox workspace, no emulator needed).
screenshot: install
	bash tests/with-keyring.sh $(BIN)/python -m refarch_tui.cli screenshot --output docs/home.svg

clean:
	rm -rf $(VENV) build dist .mypy_cache .ruff_cache .pytest_cache
