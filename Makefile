# The two set-up commands on a fresh machine:
#   make demo   every installed gateway's life cycle against the built-in sandbox
#   make test   ruff, mypy --strict, the whole pytest suite and a strict build of the docs
#               site (installs what it needs)

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.payhub-installed

PACKAGES := -e ./payhub_core[sandbox,testing,ledger,postgres] -e ./payhub_plutu[sandbox] -e ./payhub_plural[sandbox]
# Third-party adapter distributions the tests install like any outside package (they
# include deliberately broken adapters, so the demo's environment goes without them).
TEST_PACKAGES := -e ./tests/example_adapter
TEST_STAMP := $(VENV)/.payhub-test-installed

.PHONY: demo test lint typecheck unit docs browser-deps postgres-deps bench clean

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

# The documentation site: --strict turns every warning (a broken link or anchor, a page
# missing from the nav) into a failure. Not -q: it would hide the warnings strict counts.
docs: $(TEST_STAMP)
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict -d site

test: $(TEST_STAMP) browser-deps postgres-deps lint typecheck unit docs

# Debian's PostgreSQL server binaries for the ledger tests: they start their own server in
# a temporary folder (initdb, pg_ctl) on a free loopback port; no service is enabled.
postgres-deps:
	@ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq postgresql >/dev/null; }

# Debian's Chromium for the browser tests (Playwright drives it; no browser download).
browser-deps:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi; \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium >/dev/null; }

# Same-run ratios against bare httpx, minimal stdlib code and the official Plural SDK
# (docs/performance.md). BENCH_ARGS=--quick for CI: fewer rounds, prints, never fails.
bench: $(STAMP) bench/requirements.txt
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .hypothesis artifacts site
