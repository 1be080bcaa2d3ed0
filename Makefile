# Two commands do everything on a fresh machine:
#   make reproduce   regenerate every figure under figures/ and table under paper/tables/
#   make test        run the whole test suite (package, property-based, notebooks, pairing)
# Both create the virtual environment .venv on first use and install what they need into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
TORCH_SPEC ?= torch==2.13.0
STAMP := $(VENV)/.installed

.PHONY: reproduce test test-slow sync lab clean-runs env

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet "$(TORCH_SPEC)"
	$(BIN)/python -m pip install --quiet -e ".[notebooks,test]"
	touch $(STAMP)

env: $(STAMP)

reproduce: $(STAMP)
	$(BIN)/python -m idlib.pipeline

test: $(STAMP)
	$(BIN)/python -m pytest

test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow

lab: $(STAMP)
	$(BIN)/jupyter lab --config=.jupyter/jupyter_server_config.py

sync: $(STAMP)
	$(BIN)/jupytext --sync notebooks/[0-9][0-9]_*.py

clean-runs:
	rm -rf runs
