# Every command a newcomer needs. Each target sets up .venv/ from the project's own
# files when it is missing or older than pyproject.toml / constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.DEFAULT_GOAL := help
.PHONY: help setup run airflow test test-fast lint sample bench docs clean chromium constraints

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	$(BIN)/hsinsight prepare
	@touch $(STAMP)

## help: list the commands (this text)
help:
	@grep -E '^## [a-z-]+:' $(MAKEFILE_LIST) | sed -E 's/^## ([a-z-]+): /  make \1\t/' | expand -t 20

## setup: create .venv/ from pyproject.toml and constraints.txt, then parse the dbt project and migrate .airflow/ (every other target does this first)
setup: $(STAMP)

## chromium: install Debian's chromium for the browser tests (needs root; run once before make test)
chromium:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	else apt-get update -q && apt-get install -y -q chromium; fi

## run: build the warehouse from the bundled sample through the Airflow DAGs and serve the dashboard (from the moment it is published)
DASHBOARD_PORT ?= 8501
run: setup
	$(BIN)/hsinsight run --orchestrator airflow --dashboard-port $(DASHBOARD_PORT)

## airflow: Airflow on this machine (standalone, SQLite, 127.0.0.1:8080) with the DAGs loaded; prints the URL and login
airflow: setup
	$(BIN)/hsinsight airflow

## test: lint, then the whole test suite (the browser tests need chromium: make chromium)
test: setup lint
	@command -v chromium >/dev/null 2>&1 || { echo "chromium is missing: run 'make chromium' first (the browser tests drive it)"; exit 1; }
	$(BIN)/pytest

## test-fast: the unit tier (tests/unit): no dbt, Airflow or warehouse build, under 2 minutes
test-fast: setup
	$(BIN)/pytest tests/unit

## lint: ruff (Python) and SQLFluff (dbt SQL)
lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/sqlfluff lint --disable-progress-bar dbt_project/models dbt_project/macros dbt_project/tests

## sample: write the synthetic sample files into data/sample/
sample: setup
	$(BIN)/hsinsight sample --out data/sample

## bench: national-scale benchmarks; writes data/national/ first when missing (README.md is written last)
bench: setup
	@test -f data/national/README.md || $(BIN)/hsinsight sample --scale national --out data/national
	$(BIN)/python bench/benchmark.py --data data/national

## docs: dbt's documentation of the published warehouse (lineage to the dashboards) in data/docs/index.html
docs: setup
	$(BIN)/hsinsight docs

## clean: remove everything built (warehouse, quality reports, quarantine, docs, Airflow home)
clean:
	rm -rf data/warehouse data/quality data/quarantine data/docs .airflow test-artifacts dbt_project/target dbt_project/logs

## constraints: re-pin every installed package after changing pyproject.toml dependencies
constraints:
	$(PYTHON) -m venv /tmp/hsinsight-constraints-venv
	/tmp/hsinsight-constraints-venv/bin/pip install --quiet -e '.[dev]'
	{ echo "# Exact versions hsinsight is tested with (pip constraints). Regenerate after changing"; \
	  echo "# pyproject.toml dependencies with: make constraints"; \
	  /tmp/hsinsight-constraints-venv/bin/pip freeze --exclude-editable | grep -v '^hsinsight'; } > constraints.txt
	rm -rf /tmp/hsinsight-constraints-venv
