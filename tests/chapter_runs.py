"""Running a chapter as a reader does, for the chapter tests: the papermill CLI in a clean environment."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAPERMILL = Path(sys.executable).with_name("papermill")


def run_chapter(notebook: Path, tmp_path: Path, *params, threads: int | None = None):
    """``papermill notebook out.ipynb -p name value ...`` with a private cache and HOME under ``tmp_path``.

    Returns the completed process and the path of the executed notebook. ``threads`` sets
    ``OMP_NUM_THREADS`` (None: the process default).
    """
    out = tmp_path / "out.ipynb"
    env = {
        "GANCOSMO_CACHE": str(tmp_path / "cache"),
        "MPLBACKEND": "Agg",
        "PATH": str(Path(sys.executable).parent) + ":/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PYTHONHASHSEED": "0",
    }
    if threads is not None:
        env["OMP_NUM_THREADS"] = str(threads)
    args = [str(PAPERMILL), str(notebook), str(out), "--cwd", str(notebook.parent), "--no-progress-bar"]
    for name, value in params:
        args += ["-p", name, value]
    return subprocess.run(args, capture_output=True, text=True, env=env, timeout=600), out


def notebook_text(path: Path) -> str:
    """Every text, Markdown and plain-text output of the executed notebook at ``path``, joined."""
    nb = json.loads(path.read_text())
    text = []
    for cell in nb["cells"]:
        for o in cell.get("outputs", []):
            text.append("".join(o.get("text", "")))
            for key in ("text/markdown", "text/plain"):
                text.append("".join(o.get("data", {}).get(key, "")))
    return "\n".join(text)
