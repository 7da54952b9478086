# One command per developer verb. Everything runs from the virtual environment in .venv, which is
# created and filled from the hashed lock files in requirements/ on first use.

PYTHON ?= $(shell command -v python3.11 >/dev/null 2>&1 && echo python3.11 || echo python3)
VENV := .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip --disable-pip-version-check
PYTEST_ARGS ?=
UP_ARGS ?=
# `make lock` resolves against PyPI only, so that no local index or wheel folder that pip may be
# configured with on this machine ends up in the lock files.
LOCK_INDEX ?= https://pypi.org/simple
LOCK_ARGS ?=
PIP_COMPILE := PIP_CONFIG_FILE=/dev/null PIP_FIND_LINKS= PIP_EXTRA_INDEX_URL= PIP_INDEX_URL= \
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe \
	--no-emit-index-url --no-emit-find-links --index-url $(LOCK_INDEX) $(LOCK_ARGS)

.DEFAULT_GOAL := help
.PHONY: help up test lint bench lock clean venv

help:
	@echo "make up      install (first time), migrate, load data and serve http://127.0.0.1:8000"
	@echo "             (UP_ARGS='--no-demo --bind 127.0.0.1:8001' passes options to attrition up)"
	@echo "make test    run the whole test suite (PYTEST_ARGS='-k name' to pick tests)"
	@echo "make lint    ruff check, ruff format --check, mypy --strict"
	@echo "make bench   run the benchmarks (bench/run.py)"
	@echo "make lock    re-resolve requirements/*.lock from pyproject.toml (LOCK_ARGS=--upgrade)"
	@echo "make clean   remove .venv and caches (never ./data)"

# --- the virtual environment --------------------------------------------------------------------

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] not in ((3, 11), (3, 12)))' 2>/dev/null \
		|| { echo "make: attrition needs Python 3.11 or 3.12; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." \
		     "Install python3.11, or run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Each stamp records that the venv holds one lock file's packages and the project; it is remade
# only when the lock file or pyproject.toml changes.
$(VENV)/.base.stamp: requirements/base.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements/base.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $@

$(VENV)/.dev.stamp: requirements/dev.lock pyproject.toml | $(BIN)/python
	$(PIP) install --quiet --require-hashes -r requirements/dev.lock
	$(PIP) install --quiet --no-deps --no-build-isolation -e .
	@touch $@

venv: $(VENV)/.dev.stamp

# --- the verbs ----------------------------------------------------------------------------------

up: $(VENV)/.base.stamp
	$(BIN)/attrition up $(UP_ARGS)

test: $(VENV)/.dev.stamp
	@status=0; $(BIN)/python -m pytest $(PYTEST_ARGS) || status=$$?; \
	if [ $$status -eq 5 ]; then echo "make test: pytest collected no tests: failing" >&2; fi; \
	exit $$status

lint: $(VENV)/.dev.stamp
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	@# The Django plugin loads the settings, which create the data directory: not ./data.
	ATTRITION_DATA_DIR=$${TMPDIR:-/tmp}/attrition-lint $(BIN)/mypy

bench: $(VENV)/.dev.stamp
	@test -f bench/run.py || { echo "make bench: bench/run.py does not exist yet: nothing to run" >&2; exit 1; }
	$(BIN)/python bench/run.py

lock: $(VENV)/.dev.stamp
	$(PIP_COMPILE) --output-file requirements/base.lock pyproject.toml requirements/base.in
	$(PIP_COMPILE) --extra dev --output-file requirements/dev.lock pyproject.toml requirements/dev.in

clean:
	rm -rf $(VENV) build dist .pytest_cache .mypy_cache .ruff_cache src/*.egg-info
	find . -path ./data -prune -o -name __pycache__ -type d -prune -exec rm -rf {} +
	@echo "make clean: ./data (the database, media and secret key) is kept"
