#!/usr/bin/env bash
# Build the pinned lenstools 1.2 oracle environment at .venv-oracle (git-ignored).
# lenstools 1.2 only builds against numpy<1.24 and setuptools<65, without build isolation.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${ORACLE_VENV:-.venv-oracle}
PYTHON=${PYTHON:-python3}
if [ -x "$VENV/bin/python" ] && "$VENV/bin/python" -c "import lenstools" 2>/dev/null; then
    echo "oracle venv $VENV already has lenstools $("$VENV/bin/python" -c 'import lenstools; print(lenstools.__version__)')"
    exit 0
fi
"$PYTHON" -m venv "$VENV"
"$VENV/bin/python" -m pip install --quiet "pip<24.1"
"$VENV/bin/python" -m pip install --quiet "numpy>=1.23,<1.24" "setuptools<65" wheel "cython<3" \
    "scipy<1.11" "astropy<5.3" "matplotlib<3.8" "pandas<2.1" emcee
"$VENV/bin/python" -m pip install --quiet --no-build-isolation "lenstools==1.2"
"$VENV/bin/python" -c "import lenstools, numpy; print('lenstools', lenstools.__version__, 'numpy', numpy.__version__)"
