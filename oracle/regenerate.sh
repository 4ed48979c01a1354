#!/usr/bin/env bash
# make oracle: build the pinned lenstools venv if needed, then regenerate the golden files.
set -euo pipefail
cd "$(dirname "$0")/.."
bash oracle/build_venv.sh
PY=${PY:-.venv/bin/python}
"$PY" oracle/make_golden.py
