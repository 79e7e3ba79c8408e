# SamenWeten — two commands: `make run` (set up and start the app) and `make test` (set up, check, run all tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501
LOCK := requirements.lock
UNIT := not model and not browser and not server and not process and not app

.PHONY: run test test-unit test-app check lint format typecheck install install-test lock bench clean

run: install
	$(BIN)/kb setup
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

# The full suite, as CI runs it (.ci/run): the gates first, then every tier (unit, model, server, browser).
test: install-test check
	$(BIN)/kb models install embeddinggemma-300m
	$(BIN)/kb models install multilingual-e5-small
	$(BIN)/python -m pytest -q -p no:cacheprovider

# The quick tier for the edit-test loop: no model, browser, server, kb process or whole app. It runs on every
# core (pytest-xdist, one test file per worker at a time, so a module fixture is built once; UNIT_WORKERS=0 runs
# it in this one process).
UNIT_WORKERS ?= auto
test-unit: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "$(UNIT)" -n $(UNIT_WORKERS) --dist loadfile

# The app and process tiers (AppTest of the whole app, real kb processes): no model, browser or server needed.
test-app: install
	$(BIN)/python -m pytest -q -p no:cacheprovider -m "(app or process) and not model and not browser and not server"

# Lint, format and types (the same gates CI runs).
check: install lint typecheck

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Every package from the lock file, pinned with hashes (torch==2.13.0 is the CPU build from the local wheel);
# then the project itself without resolving anything again.
$(VENV)/.installed: pyproject.toml $(LOCK) | $(BIN)/python
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	bash scripts/install_ocr.sh
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed scripts/install_test_extras.sh
	bash scripts/install_test_extras.sh $(BIN)
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

# Refresh the lock file after changing pyproject.toml (README: "Upgrading dependencies").
lock: | $(BIN)/python
	$(BIN)/pip install --quiet "pip-tools>=7.6"
	$(BIN)/pip-compile --quiet --generate-hashes --strip-extras --allow-unsafe --no-emit-index-url \
	  --no-emit-find-links --extra llm --extra test --extra dev -o $(LOCK) pyproject.toml

bench: install
	$(BIN)/python bench/run_retrieval_bench.py

clean:
	rm -rf $(VENV) data
