# Two commands on a fresh machine:  `make demo`  and  `make test`.
# Both create ./.venv and install tematik into it with the pins in constraints.txt;
# `make test` adds the test tools.

PYTHON ?= python3
VENV   ?= .venv
BIN     = $(VENV)/bin
# -qq: pip's local-mirror warnings are noise; errors still show.
PIP     = $(BIN)/python -m pip install -qq -c constraints.txt

export PREFECT_SERVER_ANALYTICS_ENABLED = false
# The install's steps write the byte-code of what they import (pip writes none, see below).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install demo test benchmark clean

# --no-compile: pip would write byte-code for every module of every package (~265 MB);
# Python writes it for what is imported, and the last step imports what a run imports.
$(BIN)/tematik: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(PIP) --no-compile -e .
	# BERTopic without its dependencies: they are tematik's own but sentence-transformers and
	# torch (several GB), which tematik's default path never runs (README "Installation").
	$(PIP) --no-compile --no-deps bertopic
	# One-time work into tematik's cache, so no run does it: the topic model's numba code
	# (~25-50 s) and the shipped taxonomies' embeddings (~10-40 s).
	$(BIN)/python -c "from pipeline.run import warm_up_caches; warm_up_caches()"
	# Leave out the files tematik never reads (other languages' lemma tables, an unused model
	# file, debug sections, test suites); import tematik, the flows and the temporary Prefect server's app.
	$(BIN)/python -m pipeline.lean_install 'flows.*' 'prefect.server.api.*' uvicorn.main
	# Start and stop the temporary Prefect server once: its database is created (migrations,
	# ~10-20 s) and its modules compiled now, not in the first run.
	$(BIN)/python -c "from flows.server import prefect_api; exec('with prefect_api() as api: api.wait()')"
	touch $@

# The test tools, for `make test` only (the demo and the runs never import them).
$(VENV)/.test-tools: $(BIN)/tematik
	$(PIP) --no-compile -e ".[test]"
	touch $@

install: $(BIN)/tematik

demo: install
	$(BIN)/tematik run corpora/demo --workshop "Strategiworkshop Midtjylland 2026" --out outputs

test: install $(VENV)/.test-tools
	$(BIN)/python -m pytest

benchmark: install
	$(BIN)/python benchmarks/speed.py
	$(BIN)/python benchmarks/saved_run.py
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/deb-dev.csv --taxonomy deb-2020-2023
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/sydkyst-2024.csv --taxonomy benchmarks/data/sydkyst-2024.yaml
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/demo-gold.csv --note corpora/demo/opsamlingsnotat.docx
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/fyn-2022/gold.csv --note benchmarks/data/fyn-2022/opsamling-fyn.md
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/menti-deb.csv --taxonomy deb-2020-2023
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/menti-nordjylland.csv --taxonomy nordjylland-2023
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/kommune-11.csv --taxonomy benchmarks/data/kommune-11.yaml
	$(BIN)/python benchmarks/quality.py --labels benchmarks/data/trivsel-10.csv --taxonomy benchmarks/data/trivsel-10.yaml --full-only  # held out: measured, never tuned on
	$(BIN)/python benchmarks/quality.py --shared-note

clean:
	rm -rf $(VENV) .pytest_cache
