# tradestream — the two set-up commands are `make run` and `make test` (see README.md).
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
TS := $(VENV)/bin/tradestream
STAMP := $(VENV)/.installed-stamp

.PHONY: run test lint-imports stop stack-up stack-down status install deps unit integration bench clean-data

## install: the virtualenv with the project and its dev/test tools
install: $(STAMP)
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

## deps: system packages the stack needs (PostgreSQL server, Java 17, Maven), installed when missing
deps:
	@bash scripts/install-system-deps.sh

## stack-up: Kafka, schema registry, PostgreSQL and S3 started and set up (topics, schemas, migrations, bucket)
stack-up: install deps
	$(TS) stack up

stack-down: install
	$(TS) stack down
status: install
	$(TS) stack status

## run: the stack, the Faust worker, the simulated feed and the API on http://127.0.0.1:8000 until Ctrl-C
run: stack-up
	$(TS) run

## stop: stop what `make run` started (application processes and the stack); data is kept
stop: install
	$(TS) run --stop
	$(TS) stack down

## test: the same set-up, the import contracts (the arrows run one way), then the whole suite (unit and
## integration) against the real services
test: stack-up lint-imports
	$(PY) -m pytest -q -p no:cacheprovider

## lint-imports: the layer contracts of pyproject.toml ([tool.importlinter])
lint-imports: install
	$(VENV)/bin/lint-imports

unit: install
	$(PY) -m pytest -q -m "not integration"

integration: stack-up
	$(PY) -m pytest -q -m integration

## bench: every benchmark, printing its figures
bench: stack-up
	@for script in benchmarks/bench_*.py; do echo "== $$script"; $(PY) $$script || exit 1; done

## clean-data: stop everything and delete the local data folder (.tradestream)
clean-data: stop
	rm -rf .tradestream
