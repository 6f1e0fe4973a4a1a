# The things people do. `make run` and `make test` are the README's two commands.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: setup run ingest serve test lint bench clean browser ocr postgres

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# torch first, pinned: the CPU wheel. Left to the resolver it would pull GBs of CUDA.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet torch==2.13.0
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

# Debian's tesseract, for scanned pages (does nothing where it is installed). Not fatal: without
# it a scanned paper is refused saying what to do, and everything else works.
ocr:
	-sh scripts/install-ocr.sh

setup: $(VENV)/.installed ocr

ingest: setup
	$(BIN)/boardpapers ingest corpus/

# Where `make run` / `make serve` listen: `make run PORT=8123` (or HOST=…) on the command
# line; `:=`, so a PORT or HOST already in the environment (a PaaS's, a shell's) is not taken.
HOST := 127.0.0.1
PORT := 8000

serve: setup
	$(BIN)/boardpapers serve --host $(HOST) --port $(PORT)

# Ingest the sample papers (unchanged files cost nothing) and serve on http://$(HOST):$(PORT)
run: ingest serve

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy ingest service bench tests

browser:
	sh scripts/install-browser.sh

# Debian's postgresql, for the tests of shared state (does nothing where it is installed).
postgres:
	sh scripts/install-postgres.sh

test: setup lint browser postgres
	$(BIN)/python -m pytest

bench: setup
	$(BIN)/python -m bench.quality

clean:
	rm -rf $(VENV) data .mypy_cache .ruff_cache .pytest_cache
