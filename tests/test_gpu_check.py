"""The GPU check's code path, run on the CPU at the smoke profile (seconds instead of minutes)."""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_gpu_check_runs_every_chapter_and_writes_its_record(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import gpu_check
    finally:
        sys.path.pop(0)
    out = tmp_path / "gpu_check.json"
    gpu_check.main(
        [
            "--profile",
            "smoke",
            "--device",
            "cpu",
            "--seconds",
            "0.5",
            "--warmup",
            "1",
            "--log-every",
            "1",
            "--out",
            str(out),
        ]
    )
    record = json.loads(out.read_text())
    assert set(record["chapters"]) == {"p1", "p2", "p3"}
    for name, chapter in record["chapters"].items():
        assert chapter["timed_steps"] >= 1 and chapter["samples_per_s"] > 0, name
        assert chapter["loss_g"] and all(len(pair) == 2 for pair in chapter["loss_g"]), name
        assert 0 <= chapter["statistic_untrained"] < 1e6 and 0 <= chapter["statistic_after"] < 1e6, name
        assert chapter["device_settings"]["device"] == "cpu"
    assert record["chapters"]["p3"]["sample_shape"] == [32, 32, 32]
