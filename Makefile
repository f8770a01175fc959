# The two set-up commands on a fresh machine:
#   make demo   every installed gateway's life cycle against the built-in sandbox
#   make test   ruff, mypy --strict and the whole pytest suite (installs what it needs)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.payhub-installed

PACKAGES := -e ./payhub_core[sandbox,testing] -e ./payhub_plutu[sandbox] -e ./payhub_plural[sandbox]
# Third-party adapter distributions the tests install like any outside package (they
# include deliberately broken adapters, so the demo's environment goes without them).
TEST_PACKAGES := -e ./tests/example_adapter
TEST_STAMP := $(VENV)/.payhub-test-installed

.PHONY: demo test lint typecheck unit browser-deps bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(STAMP): $(BIN)/python payhub_core/pyproject.toml payhub_plutu/pyproject.toml payhub_plural/pyproject.toml
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet $(PACKAGES)
	touch $(STAMP)

$(TEST_STAMP): $(STAMP) requirements-dev.txt tests/example_adapter/pyproject.toml
	$(BIN)/python -m pip install --quiet $(TEST_PACKAGES) -r requirements-dev.txt
	touch $(TEST_STAMP)

demo: $(STAMP)
	$(BIN)/payhub demo

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: $(TEST_STAMP)
	$(BIN)/mypy

unit: $(TEST_STAMP)
	$(BIN)/pytest

test: $(TEST_STAMP) browser-deps lint typecheck unit

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis artifacts
