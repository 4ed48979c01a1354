# Two commands do everything on a fresh machine:
#   make book   -> .venv, install, embedded data, execute chapters (default profile), HTML in _build/html
#   make test   -> .venv, install, ruff (lint + format check), test suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Data cache: gancosmo.paths.cache_dir() decides (one default for make, papermill and scripts): $GANCOSMO_CACHE if
# set, else .cache/gancosmo in this checkout. Set GANCOSMO_CACHE to move it.
export PYTHONHASHSEED := 0
# Idle OpenMP threads sleep instead of spinning: with two test workers (or any other load) on two cores,
# spinning torch threads made training 5-8x slower.
export OMP_WAIT_POLICY ?= PASSIVE
PYTEST_WORKERS ?= 2

.PHONY: venv data book test lint oracle notebooks clean browser gpu-check

venv: $(VENV)/.installed $(VENV)/etc/ipython/ipython_kernel_config.py

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[book,test]"
	$(PY) -m ipykernel install --sys-prefix --name python3 --display-name "Python 3 (gancosmo)" >/dev/null
	touch $@

# The kernels listen on 127.0.0.1 only: their plain-TCP notice is dropped (see the file).
$(VENV)/etc/ipython/ipython_kernel_config.py: .ci/ipython_kernel_config.py $(VENV)/.installed
	install -D -m 644 $< $@

# Pre-generate the embedded data sets the default-profile chapters read (cached, checksummed).
data: venv
	$(PY) -m gancosmo.sims.suites --profile cpu --suites book

# Re-create the output-free .ipynb files from the jupytext percent sources.
notebooks: venv
	$(VENV)/bin/jupytext --quiet --to ipynb --update-metadata '{"jupytext":{"formats":"ipynb,py:percent"}}' notebooks/*.py

book: venv data
	$(VENV)/bin/jupyter-book build --path-output . . 

LINTED := lib tests benchmarks notebooks

# Style first (seconds), then the suite.
lint: venv
	$(VENV)/bin/ruff check $(LINTED)
	$(VENV)/bin/ruff format --check $(LINTED)

test: venv lint
	$(PY) -m pytest -n $(PYTEST_WORKERS) -p no:cacheprovider --durations=30

# On a machine with one H100/H200: each chapter's gpu networks on gpu-profile data, at most 9 minutes in all,
# written to results/gpu_check.json (throughput, loss curves, an early statistic per chapter).
gpu-check: venv
	$(PY) benchmarks/gpu_check.py --profile gpu --out results/gpu_check.json

# Headless Chromium for the browser test of the static widgets (Debian's package, installed when missing).
browser:
	@if command -v chromium >/dev/null 2>&1; then echo "chromium: $$(command -v chromium)"; \
	else SUDO=$$( [ "$$(id -u)" -eq 0 ] || echo sudo ); $$SUDO apt-get update && $$SUDO apt-get install -y chromium; fi

# Rebuild the pinned lenstools 1.2 environment (.venv-oracle) and regenerate the golden files
# that the statistics tests compare against (tests/golden/stats).
oracle: venv
	PY=$(PY) bash oracle/regenerate.sh

clean:
	rm -rf _build
