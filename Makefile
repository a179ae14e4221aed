# Two entry points: `make lab` (the whole lab) and `make test`. Both create .venv on first use and
# install torch==2.13.0 (CPU) before the project, so pip never pulls a multi-GB CUDA build.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
LAB_ARGS ?=

.PHONY: lab test lint fast-test venv dev clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Stamp files make re-runs skip what is installed already.
$(VENV)/.torch: | $(BIN)/python
	$(BIN)/pip install --quiet $(TORCH)
	touch $@

$(VENV)/.installed: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml $(VENV)/.torch
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

venv: $(VENV)/.installed
dev: $(VENV)/.installed-dev

lab: $(VENV)/.installed
	$(BIN)/aelab lab --force $(LAB_ARGS)

test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest

# The unit tests only: end-to-end tests marked `slow` (DDP, resume, the lab) are skipped
fast-test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -m "not slow"

# ruff's rules and formatting (pyproject.toml), and no import cycles inside the package
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check aelab tests benchmarks
	$(BIN)/ruff format --check aelab tests benchmarks
	$(BIN)/python ../shared/tools/import_cycles.py aelab

clean:
	rm -rf $(VENV) runs
