# SamenWeten — two commands: `make run` (set up and start the app) and `make test` (set up and run the tests).
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8501

.PHONY: run test install install-test models browser llamacpp bench clean

run: install
	$(BIN)/kb setup
	$(BIN)/streamlit run app.py --server.port $(PORT) --server.headless true --browser.gatherUsageStats false

test: install-test
	$(BIN)/kb models install embeddinggemma-300m
	$(BIN)/kb models install multilingual-e5-small
	$(BIN)/python -m pytest -q -p no:cacheprovider

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first and pinned: pip then takes the CPU build instead of a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet "torch==2.13.0"
	$(BIN)/pip install --quiet -e ".[llm]"
	bash scripts/install_ocr.sh
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed
	$(BIN)/pip install --quiet -e ".[llm,test]"
	bash scripts/install_test_extras.sh $(BIN)
	touch $@

install: $(VENV)/.installed

install-test: $(VENV)/.installed-test

bench: install
	$(BIN)/python bench/run_retrieval_bench.py

clean:
	rm -rf $(VENV) data
