# Bedside — the two commands that matter are `make run` and `make test`.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 127.0.0.1
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: run test bench lint format check clean screenshots

# Install (or refresh) the project when pyproject.toml changes; otherwise this is instant.
# `make run` needs only the app; `make test` adds the dev extra (test tools, pyspark for the Spark
# tests), so running Bedside stays a light install.
$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $(STAMP)

$(DEV_STAMP): $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP)

# The interop tests' independent FHIR server (Medplum, on Node): reinstalled when its lock changes.
# Without npm the interop tests skip locally (and fail under CI, which installs Node.js first).
NPM_DIR := tests/interop/fhir_server
NPM_STAMP := $(NPM_DIR)/node_modules/.installed
$(NPM_STAMP): $(NPM_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix $(NPM_DIR) --no-audit --no-fund --loglevel=error && touch $(NPM_STAMP); \
	else echo "npm not found: the interop tests will be skipped (apt-get install nodejs npm)"; fi

# axe-core for the browser tests' accessibility checks (tests/support/axe.py): reinstalled when its
# lock changes. Without npm those tests skip locally (and fail under CI, which installs Node.js first).
AXE_DIR := tests/support/axe
AXE_STAMP := $(AXE_DIR)/node_modules/.installed
$(AXE_STAMP): $(AXE_DIR)/package-lock.json
	@if command -v npm >/dev/null 2>&1; then \
	  npm ci --prefix $(AXE_DIR) --no-audit --no-fund --loglevel=error && touch $(AXE_STAMP); \
	else echo "npm not found: the accessibility tests will be skipped (apt-get install nodejs npm)"; fi

# The vendored CDS Hooks sandbox, built for tests/interop_sandbox when its lockfile or pin changes
# (about 2 minutes on an idle 2-core machine). Without npm its test skips locally, fails under CI.
SANDBOX := third_party/cds-hooks-sandbox
SANDBOX_STAMP := $(SANDBOX)/build/.built
$(SANDBOX_STAMP): $(SANDBOX)/package-lock.json $(SANDBOX)/VENDORED.md
	@if command -v npm >/dev/null 2>&1; then \
	  cd $(SANDBOX) && npm ci --no-audit --no-fund --loglevel=error && npm run build && touch build/.built; \
	else echo "npm not found: the CDS Hooks sandbox test will be skipped (apt-get install nodejs npm)"; fi

instance:
	mkdir -p instance

run: $(STAMP) instance  ## Start Bedside in demo mode on http://$(HOST):$(PORT)
	BEDSIDE_DEMO=1 $(BIN)/bedside serve --host $(HOST) --port $(PORT)

test: $(DEV_STAMP) $(NPM_STAMP) $(AXE_STAMP) $(SANDBOX_STAMP)  ## Lint, type-check the pure cores, check the content library, run every test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/bedside content check
	$(BIN)/pytest

bench: $(DEV_STAMP)  ## Run the benchmarks in bench/ and print their ratios
	$(BIN)/python -m bench

screenshots: $(DEV_STAMP)  ## Retake the README's screenshots (docs/screenshots) from the demo in Chromium
	$(BIN)/python -m tests.browser.screenshots

lint: $(DEV_STAMP)
	$(BIN)/ruff check .

format: $(DEV_STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
