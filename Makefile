# Two commands for a fresh machine:
#   make run   - set up and start the local server (embedded PostgreSQL, local storage, web app)
#   make test  - set up and run every test (unit, integration, end-to-end, security, browser)
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)
# checkov (policy as code on infra/template.yaml) lives in a venv of its own: it pins boto3 and
# packaging to old versions, which must not become the versions the project is tested with.
TOOLS := .venv-tools
CHECKOV_SPEC := checkov>=3.2,<4
TOOLS_STAMP := $(TOOLS)/.installed-$(shell echo '$(CHECKOV_SPEC)' | cksum | cut -d' ' -f1)

.PHONY: run test setup clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[local,dev]'
	rm -f $(VENV)/.installed-*
	touch $@

$(TOOLS_STAMP):
	$(PYTHON) -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --upgrade pip
	$(TOOLS)/bin/pip install --quiet '$(CHECKOV_SPEC)'
	rm -f $(TOOLS)/.installed-*
	touch $@

setup: $(STAMP)

run: setup
	$(BIN)/photosync serve $(ARGS)

test: setup $(TOOLS_STAMP)
	$(BIN)/python tools/ensure_chromium.py
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) $(TOOLS) photosync-data test-artifacts
