# The two commands: `make demo` (the main job on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt
SCALE  ?= 1

.PHONY: demo test services install install-demo install-dev bench lint lock clean airflow airflow-check

$(BIN)/cryptopulse: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $@

# One stamp per extra set: a target installs exactly what its commands import (demo: the analysis extra).
$(VENV)/.demo: $(BIN)/cryptopulse
	$(PIP) -e '.[analysis]'
	@touch $@

$(VENV)/.dev: $(BIN)/cryptopulse
	$(PIP) -e '.[all]'
	@touch $@

install: $(BIN)/cryptopulse
install-demo: $(VENV)/.demo
install-dev: $(VENV)/.dev

demo: install-demo  ## generate the reference dataset (scale 1), run the pipeline on DuckDB, score sentiment, analyze
	$(BIN)/cryptopulse demo --scale $(SCALE)

test: install-dev services  ## the test suite (starts and stops its own PostgreSQL and S3 servers)
	$(BIN)/python -m pytest

PG_INITDB := /usr/lib/postgresql/15/bin/initdb
services:  ## PostgreSQL 15, a Java runtime (Spark) and Chromium (browser tests) from Debian, installed once (moto_server comes with .[all])
	@test -x $(PG_INITDB) || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql)
	@command -v java >/dev/null || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y default-jre-headless)
	@test -x /usr/bin/chromium || (apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium)

bench: install-dev  ## benchmarks at reference scale
	$(BIN)/python bench/elt.py --scale $(SCALE)

lint: install-dev
	$(BIN)/ruff check src tests bench dags scripts

airflow: install-dev  ## Airflow standalone on http://127.0.0.1:8080 with the DAG (offline: synthetic data), home data/airflow
	$(BIN)/python scripts/airflow_standalone.py serve

airflow-check: install-dev  ## start Airflow standalone aside, wait until healthy and the DAG is listed, run one day, stop
	$(BIN)/python scripts/airflow_standalone.py check --run-day 2024-05-20

.PHONY: dashboard
$(VENV)/.dashboard: $(BIN)/cryptopulse
	$(PIP) -e '.[dashboard]'
	@touch $@

dashboard: $(VENV)/.dashboard  ## the dashboard over the published data (after `make demo`) on http://127.0.0.1:8501
	$(BIN)/cryptopulse dashboard --host 127.0.0.1 --port $(or $(PORT),8501)

.PHONY: serve
$(VENV)/.api: $(BIN)/cryptopulse
	$(PIP) -e '.[api]'
	@touch $@

serve: $(VENV)/.api  ## the read API over the published data (after `make demo`) on http://127.0.0.1:8000, docs at /docs (docs/SERVING.md)
	$(BIN)/cryptopulse serve --host 127.0.0.1 --port $(or $(PORT),8000) --workers $(or $(WORKERS),2)

lock:  ## refresh constraints.txt from the current venv (all extras installed)
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) data
