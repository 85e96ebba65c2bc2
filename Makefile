# Two entry points (see README): `make demo` and `make test`. Each sets up the environment first.
# A GPU user brings their own torch: `make demo TORCH=torch` (or any pip requirement), or
# install torch into .venv before the first `make`.
PYTHON ?= python3
VENV ?= .venv
TORCH ?= torch==2.13.0
CORES ?= all
BIN := $(VENV)/bin

.PHONY: demo test test-fast setup lint clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "emergence needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -c 'import torch' 2>/dev/null || $(BIN)/pip install --quiet "$(TORCH)"
	$(BIN)/pip install --quiet -e .
	touch $@

# The test and lint tools: `make test` and `make lint` need them, the demo does not.
$(BIN)/.installed-dev: $(BIN)/.installed
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(BIN)/.installed-dev

demo: $(BIN)/.installed
	$(BIN)/snakemake --cores $(CORES)
	$(BIN)/snakemake --report results/report.html
	@echo "emergence demo: figures in results/figures/ (time, space, scale, decomposition, alignment, f1, granularity, seeds; PNG and PDF)"
	@echo "emergence demo: report in results/report.html (every figure and table, self-contained)"

test: $(BIN)/.installed-dev
	$(BIN)/pytest

# Everything but the end-to-end runs of the workflow (marked slow) and the SLURM tests.
test-fast: $(BIN)/.installed-dev
	$(BIN)/pytest -m "not slow and not slurm"

lint: $(BIN)/.installed-dev
	$(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/snakefmt --check Snakefile rules && $(BIN)/snakemake --lint

clean:
	rm -rf results .snakemake
