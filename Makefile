# Two commands for a fresh machine:
#   make run   - set up and start the local server (embedded PostgreSQL, local storage, web app)
#   make test  - set up and run every test (unit, integration, end-to-end, security, browser, phone app)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

# The phone app (mobile/): nothing may reach the network but the npm registry, and npm's cache stays
# inside the project.
MOBILE_ENV := CI=1 EXPO_NO_TELEMETRY=1 EXPO_OFFLINE=1
MOBILE_BIN := node_modules/.bin

.PHONY: run test setup clean mobile

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

setup: $(STAMP)

run: setup
	$(BIN)/photosync serve $(ARGS)

# npm ci, type check, the Jest suite (closing line "N passed, N failed"), then the web build that
# tests/mobile_web drives in Chromium.
mobile:
	cd mobile && $(MOBILE_ENV) npm ci --cache .npm-cache --prefer-offline --no-audit --no-fund --loglevel=error
	cd mobile && $(MOBILE_ENV) $(MOBILE_BIN)/tsc --noEmit
	cd mobile && $(MOBILE_ENV) $(MOBILE_BIN)/jest --ci
	cd mobile && rm -rf dist && $(MOBILE_ENV) $(MOBILE_BIN)/expo export --platform web --output-dir dist

test: setup mobile
	$(BIN)/python tools/ensure_chromium.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) photosync-data test-artifacts mobile/node_modules mobile/dist
