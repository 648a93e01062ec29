# Two commands for a fresh machine:
#   make run   - set up and start the local server (embedded PostgreSQL, local storage, web app)
#   make test  - set up and run every test (unit, integration, end-to-end, security, browser, phone app)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# LocalStack's S3 for the S3 integrity tests, in a venv of its own (large, and pinned apart).
LOCALSTACK_VENV := .venv-localstack
LOCALSTACK_REQUIREMENTS := tests/support/localstack-requirements.txt
LOCALSTACK_STAMP := $(LOCALSTACK_VENV)/.installed-$(shell cat $(LOCALSTACK_REQUIREMENTS) | cksum | cut -d' ' -f1)
# Test processes: most tests wait on servers, PostgreSQL and a browser, so two share two cores well.
# Each process keeps a test file's tests together (their fixtures start servers once per file).
TEST_WORKERS ?= 2
# checkov (policy as code on infra/template.yaml) lives in a venv of its own: it pins boto3 and
# packaging to old versions, which must not become the versions the project is tested with.
TOOLS := .venv-tools
CHECKOV_SPEC := checkov>=3.2,<4
TOOLS_STAMP := $(TOOLS)/.installed-$(shell echo '$(CHECKOV_SPEC)' | cksum | cut -d' ' -f1)

# The phone app (mobile/): nothing may reach the network but the npm registry, and npm's cache stays
# inside the project.
MOBILE_ENV := CI=1 EXPO_NO_TELEMETRY=1 EXPO_OFFLINE=1
MOBILE_BIN := node_modules/.bin

.PHONY: run test setup localstack clean mobile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet '$(CHECKOV_SPEC)'
	rm -f $(TOOLS)/.installed-*
	touch $@

setup: $(STAMP)
	@# As root, PostgreSQL runs as photosync-pg and reaches its cluster through an ACL (setfacl).
	@if [ "$$(id -u)" = 0 ] && ! command -v setfacl >/dev/null; then \
	  apt-get install -y -qq --no-install-recommends acl || { apt-get update -qq && apt-get install -y -qq --no-install-recommends acl; }; fi

$(LOCALSTACK_STAMP): $(LOCALSTACK_REQUIREMENTS)
	$(PYTHON) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/pip install --quiet --upgrade pip
	$(LOCALSTACK_VENV)/bin/pip install --quiet -r $(LOCALSTACK_REQUIREMENTS)
	rm -f $(LOCALSTACK_VENV)/.installed-*
	touch $@

localstack: $(LOCALSTACK_STAMP)

run: setup
	$(BIN)/photosync serve $(ARGS)

# npm ci, type check, the Jest suite (closing line "N passed, N failed"), then the web build that
# tests/mobile_web drives in Chromium.
mobile:
	cd mobile && $(MOBILE_ENV) npm ci --cache .npm-cache --prefer-offline --no-audit --no-fund --loglevel=error
	cd mobile && $(MOBILE_ENV) $(MOBILE_BIN)/tsc --noEmit
	cd mobile && $(MOBILE_ENV) $(MOBILE_BIN)/jest --ci
	cd mobile && rm -rf dist && $(MOBILE_ENV) $(MOBILE_BIN)/expo export --platform web --output-dir dist

test: setup localstack $(TOOLS_STAMP) mobile
	$(BIN)/python tools/ensure_chromium.py
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(LOCALSTACK_VENV) $(TOOLS) photosync-data test-artifacts mobile/node_modules mobile/dist
