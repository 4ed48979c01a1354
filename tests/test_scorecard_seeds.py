"""Scorecards combined over training seeds: medians, every seed's value, conservative verdicts."""

import pytest
from gancosmo.scorecard import Row, combine_seed_files, combine_seeds, format_table, read_scorecard, write_scorecard


def _rows(ours, verdict, band=(0.0, 1.0)):
    return [
        Row("a", "first", ours=ours, reference=0.5, band=band, null=2.0, verdict=verdict, null_verdict="fail"),
        Row("b", "text row", ours="yes", verdict="untestable"),
    ]


def test_median_values_and_both_seeds_kept():
    meta, rows = combine_seeds(
        {
            0: ({"profile": "cpu-long", "git_commit": "x"}, _rows(0.2, "pass")),
            1: ({"profile": "cpu-long"}, _rows(0.6, "pass", (0.2, 1.4))),
        }
    )
    a = rows[0]
    assert a.ours == pytest.approx(0.4) and a.band == pytest.approx([0.1, 1.2]) and a.verdict == "pass"
    assert a.per_seed["0"]["ours"] == 0.2 and a.per_seed["1"]["ours"] == 0.6
    assert rows[1].ours == "yes" and rows[1].verdict == "untestable"
    assert meta["seeds_combined"] == [0, 1] and meta["git_commit"] == "x"
    assert "(seeds 0: 0.2, 1: 0.6)" in format_table(rows)


def test_a_claim_passes_only_when_every_seed_passes():
    _, rows = combine_seeds({0: ({}, _rows(0.2, "pass")), 1: ({}, _rows(1.5, "fail"))})
    assert rows[0].verdict == "fail"
    _, rows = combine_seeds({0: ({}, _rows(0.2, "pass")), 1: ({}, _rows(0.3, "untestable"))})
    assert rows[0].verdict == "untestable"


def test_refuses_mismatched_runs():
    with pytest.raises(ValueError, match="at least two seeds"):
        combine_seeds({0: ({}, _rows(0.2, "pass"))})
    with pytest.raises(ValueError, match="different rows"):
        combine_seeds({0: ({}, _rows(0.2, "pass")), 1: ({}, _rows(0.2, "pass")[:1])})
    with pytest.raises(ValueError, match="different profiles"):
        combine_seeds({0: ({"profile": "cpu"}, _rows(0.2, "pass")), 1: ({"profile": "gpu"}, _rows(0.2, "pass"))})


def test_files_round_trip(tmp_path):
    for seed, ours in ((0, 0.2), (1, 0.4)):
        write_scorecard(
            tmp_path / f"s{seed}.json", _rows(ours, "pass"), {"profile": "cpu-long", "config": {"seed": seed}}
        )
    out = combine_seed_files([tmp_path / "s0.json", tmp_path / "s1.json"], tmp_path / "s0.json")
    meta, rows = read_scorecard(out)
    assert rows[0].ours == pytest.approx(0.3) and set(rows[0].per_seed) == {"0", "1"}
    with pytest.raises(ValueError, match="repeats seed"):
        combine_seed_files([tmp_path / "s1.json", tmp_path / "s1.json"], tmp_path / "x.json")


def test_files_read_the_seed_from_config_or_from_a_list_of_seeds(tmp_path):
    """Chapter 02 records ``seeds`` as a one-entry list beside ``config["seed"]``; chapter 03 a dict of seeds."""
    metas = {
        "a.json": {"profile": "cpu-long", "config": {"seed": 0}, "seeds": [0]},
        "b.json": {"profile": "cpu-long", "seeds": [1]},
        "c.json": {"profile": "cpu-long", "seeds": {"training": 2, "evaluation": 7}},
    }
    for name, meta in metas.items():
        write_scorecard(tmp_path / name, _rows(0.2, "pass"), meta)
    meta, _ = read_scorecard(combine_seed_files([tmp_path / n for n in metas], tmp_path / "out.json"))
    assert meta["seeds_combined"] == [0, 1, 2]
