# The two commands: `make demo` (the main job on the embedded default) and `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PIP    := $(BIN)/pip install --quiet --disable-pip-version-check -c constraints.txt
SCALE  ?= 1

.PHONY: demo test install install-dev bench lint lock clean

$(BIN)/cryptopulse: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) -e .
	@touch $@

$(VENV)/.dev: $(BIN)/cryptopulse
	$(PIP) -e '.[all]'
	@touch $@

install: $(BIN)/cryptopulse
install-dev: $(VENV)/.dev

demo: install  ## build the reference dataset (scale 1) and run the whole pipeline on DuckDB
	$(BIN)/cryptopulse demo --scale $(SCALE)

test: install-dev  ## the test suite
	$(BIN)/python -m pytest

bench: install-dev  ## benchmarks at reference scale
	$(BIN)/python bench/elt.py --scale $(SCALE)

lint: install-dev
	$(BIN)/ruff check src tests bench

lock:  ## refresh constraints.txt from the current venv (all extras installed)
	$(BIN)/pip freeze --exclude-editable | grep -v '^-e' > constraints.txt

clean:
	rm -rf $(VENV) data
