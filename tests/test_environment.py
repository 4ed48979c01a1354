"""pyproject.toml and environment.yml declare the same dependencies; torch stays pinned."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _normalise(requirement: str) -> tuple[str, str]:
    name, spec = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", requirement).groups()
    return name.lower().replace("_", "-"), spec.replace(" ", "")


def test_pyproject_and_environment_in_sync():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *sum(project["optional-dependencies"].values(), [])]
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    conda, pip = [], []
    for entry in env["dependencies"]:
        if isinstance(entry, dict):
            pip += [p for p in entry["pip"] if not p.startswith("-e")]
        elif not entry.startswith(("python", "pip")):
            conda.append(entry)
    ours = dict(_normalise(r) for r in declared)
    theirs = dict(_normalise(r) for r in conda + pip)
    assert ours == theirs


def test_torch_pinned_to_local_cpu_wheel():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert "torch==2.13.0" in project["dependencies"]
