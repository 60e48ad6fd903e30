# Every command a newcomer needs. Each target sets up .venv/ from the project's own
# files when it is missing or older than pyproject.toml / constraints.txt.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup run airflow test test-fast lint sample bench docs clean chromium constraints

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

setup: $(STAMP)

# Debian's Chromium drives the dashboard tests (a browser download is not possible here).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser tests"; \
	  apt-get update -q && apt-get install -y -q chromium; }

## run: build the warehouse from the bundled sample through the Airflow DAGs, then serve the dashboard
DASHBOARD_PORT ?= 8501
run: setup
	$(BIN)/hsinsight run --orchestrator airflow
	$(BIN)/hsinsight dashboard --port $(DASHBOARD_PORT)

## airflow: Airflow on this machine (standalone, SQLite, 127.0.0.1:8080) with the DAGs loaded; prints the URL and login
airflow: setup
	$(BIN)/hsinsight airflow

## test: the whole test suite
test: setup chromium lint
	$(BIN)/pytest

## test-fast: everything except the end-to-end, browser and slow tests
test-fast: setup
	$(BIN)/pytest -m "not e2e and not browser and not slow"

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

sample: setup
	$(BIN)/hsinsight sample --out data/sample

## bench: national-scale benchmarks; writes data/national/ first when missing (README.md is written last)
bench: setup
	@test -f data/national/README.md || $(BIN)/hsinsight sample --scale national --out data/national
	$(BIN)/python bench/benchmark.py --data data/national

## docs: dbt's documentation of the published warehouse (lineage to the dashboards) in data/docs/index.html
docs: setup
	$(BIN)/hsinsight docs

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
