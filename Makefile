# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Both create ./.venv and install tematik into it with the pins in constraints.txt.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# -qq: pip's local-mirror warnings are noise; errors still show.
PIP     = $(BIN)/python -m pip install -qq -c constraints.txt

export PREFECT_SERVER_ANALYTICS_ENABLED = false

.PHONY: install demo test benchmark clean

$(BIN)/tematik: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	# torch first, from the pinned CPU build: anything newer pulls GBs of CUDA wheels.
	$(PIP) torch==2.13.0
	$(PIP) -e ".[test]"
	touch $@

install: $(BIN)/tematik

demo: install
	$(BIN)/tematik run corpora/demo --workshop "Strategiworkshop Midtjylland 2026" --out outputs

test: install
	$(BIN)/python -m pytest

benchmark: install
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/quality.py --all

clean:
	rm -rf $(VENV) .pytest_cache
