"""Checksummed checkpoints: a damaged one is refused, resume falls back to the newest good one, history persists."""

import hashlib
import json
import warnings
import zipfile

import pytest
import torch
from gancosmo.models.cosmogan import cosmogan
from gancosmo.train import TrainConfig, Trainer
from gancosmo.train.checkpoint import (
    CheckpointError,
    CheckpointManager,
    CheckpointSkippedWarning,
    load,
    record_path,
    verify,
)
from gancosmo.train.selection import Selector

DATA = torch.tanh(torch.randn(40, 32, 32, generator=torch.Generator().manual_seed(0)))


class ParameterSum(Selector):
    """A deterministic selection statistic: the sum of the generator's weights."""

    def distance(self, G):
        return float(sum(p.detach().double().sum() for p in G.parameters()))


def make(out_dir, callbacks=(), seed_nets=0, statistic=None, **kw):
    G, D = cosmogan(base_filters=4, map_size=32, latent_dim=8, seed=seed_nets)
    opts = dict(
        loss="bce", label_flip=0.2, batch_size=4, max_steps=14, latent_dim=8, progress=False, log_every=3, ckpt_every=3
    )
    opts.update(kw)
    return Trainer(G, D, DATA, TrainConfig(out_dir=str(out_dir), **opts), statistic=statistic, callbacks=callbacks)


def crash_at(step):
    def callback(trainer, s):
        if s == step:
            raise KeyboardInterrupt

    return callback


def weights(trainer):
    return list(trainer.G_raw.state_dict().values()) + list(trainer.D_raw.state_dict().values())


def assert_identical(a, b):
    assert len(weights(a)) == len(weights(b))
    assert all(torch.equal(x, y) for x, y in zip(weights(a), weights(b)))


def interrupted_run(folder, step=10, **kw):
    """A run stopped by a crash at ``step`` (checkpoints every 3 steps: 3, 6, 9 with the defaults)."""
    t = make(folder, callbacks=[crash_at(step)], **kw)
    with pytest.raises(KeyboardInterrupt):
        t.fit()
    t.close()
    return t.checkpoints


def largest_member_span(path):
    """``(start, stop)`` byte offsets in the file of the largest tensor stored in a torch zip checkpoint."""
    with zipfile.ZipFile(path) as zf:
        info = max(zf.infolist(), key=lambda i: i.file_size)
    assert info.compress_type == zipfile.ZIP_STORED
    with open(path, "rb") as fh:
        fh.seek(info.header_offset)
        header = fh.read(30)
    name_len, extra_len = int.from_bytes(header[26:28], "little"), int.from_bytes(header[28:30], "little")
    start = info.header_offset + 30 + name_len + extra_len
    return start, start + info.file_size


def flip_64_bytes(path):
    start, stop = largest_member_span(path)
    middle = (start + stop) // 2
    raw = bytearray(path.read_bytes())
    raw[middle : middle + 64] = bytes(b ^ 0xFF for b in raw[middle : middle + 64])
    path.write_bytes(bytes(raw))


def truncate(path):
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


@pytest.fixture(scope="module")
def straight(tmp_path_factory):
    """The uninterrupted 14-step run every resumed run must reproduce."""
    t = make(tmp_path_factory.mktemp("straight"), statistic=ParameterSum(), select_every=2)
    result = t.fit()
    t.close()
    return t, result


def test_checkpoint_record_carries_size_and_sha256(tmp_path):
    t = make(tmp_path, max_steps=3)
    t.fit()
    t.close()
    path = t.checkpoints.path(3)
    record = json.loads(record_path(path).read_text())
    assert record == {
        "file": "step-00000003.pt",
        "step": 3,
        "bytes": path.stat().st_size,
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
    }
    assert verify(path) == record
    assert not list(tmp_path.joinpath("checkpoints").glob(".*tmp"))  # atomic writes left no temporary file


def test_truncated_latest_checkpoint_falls_back_to_the_previous_one(tmp_path, straight):
    checkpoints = interrupted_run(tmp_path, statistic=ParameterSum(), select_every=2)
    assert checkpoints.steps() == [3, 6, 9]
    latest = checkpoints.path(9)
    truncate(latest)
    with pytest.raises(RuntimeError, match="zip"):  # what torch alone says: a zip error naming no file
        torch.load(latest, weights_only=False)
    with pytest.raises(CheckpointError, match=r"step-00000009\.pt holds \d+ bytes but its record says \d+"):
        load(latest)
    resumed = make(tmp_path, seed_nets=5, statistic=ParameterSum(), select_every=2)
    with pytest.warns(CheckpointSkippedWarning) as caught:
        result = resumed.fit(resume=True)
    skipped = [str(w.message) for w in caught if issubclass(w.category, CheckpointSkippedWarning)]
    assert len(skipped) == 1 and str(latest) in skipped[0] and "truncated" in skipped[0]
    trainer, expected = straight
    assert_identical(trainer, resumed)  # resumed from step 6, ran 7..14 exactly as the straight run
    assert result["history"] == expected["history"]
    assert result["selection"] == expected["selection"]


def test_64_flipped_bytes_are_refused_not_loaded(tmp_path, straight):
    checkpoints = interrupted_run(tmp_path, statistic=ParameterSum(), select_every=2)
    latest = checkpoints.path(9)
    saved, size = torch.load(latest, weights_only=False), latest.stat().st_size
    flip_64_bytes(latest)
    assert latest.stat().st_size == size  # the same size: only the checksum can tell
    # torch alone loads the damaged file without a word, with other weights than were saved
    damaged = torch.load(latest, weights_only=False)
    changed = [
        k
        for part in ("generator", "discriminator")
        for k, v in damaged[part].items()
        if not torch.equal(v, saved[part][k])
    ]
    assert changed
    with pytest.raises(CheckpointError, match=r"step-00000009\.pt has sha256 .* but its record says"):
        load(latest)
    resumed = make(tmp_path, seed_nets=5, statistic=ParameterSum(), select_every=2)
    with pytest.warns(CheckpointSkippedWarning, match=r"step-00000009\.pt has sha256"):
        assert resumed.resume(True)
    assert resumed.step == 6
    resumed.fit()
    trainer, expected = straight
    assert_identical(trainer, resumed)
    assert resumed.history == expected["history"]


@pytest.mark.parametrize(
    "damage, words",
    [
        ("record not JSON", r"record step-00000009\.json that is not valid JSON"),
        ("record missing", r"has no record step-00000009\.json"),
        ("record of another step", r"record step-00000009\.json for step 6, not 9"),
        ("record without checksum", r"record step-00000009\.json without its own file name, size and sha256"),
    ],
)
def test_a_bad_record_is_skipped_with_a_warning_naming_the_file(tmp_path, damage, words):
    checkpoints = interrupted_run(tmp_path)
    record = record_path(checkpoints.path(9))
    if damage == "record not JSON":
        record.write_text(record.read_text()[:-5])
    elif damage == "record missing":
        record.unlink()
    elif damage == "record of another step":
        record.write_text(json.dumps(dict(json.loads(record.read_text()), step=6)))
    else:
        record.write_text(json.dumps({"file": "step-00000009.pt", "step": 9}))
    with pytest.warns(CheckpointSkippedWarning, match=str(checkpoints.path(9)).replace(".", r"\.") + ".*" + words):
        path, state = checkpoints.load_latest()
    assert path == checkpoints.path(6) and state["step"] == 6


def test_walks_back_over_several_bad_checkpoints_one_warning_each(tmp_path):
    checkpoints = interrupted_run(tmp_path)
    truncate(checkpoints.path(9))
    flip_64_bytes(checkpoints.path(6))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        path, state = checkpoints.load_latest()
    messages = [str(w.message) for w in caught if issubclass(w.category, CheckpointSkippedWarning)]
    assert path == checkpoints.path(3) and state["step"] == 3
    assert len(messages) == 2
    assert str(checkpoints.path(9)) in messages[0] and str(checkpoints.path(6)) in messages[1]


def test_no_checkpoint_verifies_is_an_error_naming_the_folder(tmp_path):
    checkpoints = interrupted_run(tmp_path)
    for step in checkpoints.steps():
        truncate(checkpoints.path(step))
    resumed = make(tmp_path)
    with pytest.warns(CheckpointSkippedWarning), pytest.raises(CheckpointError) as info:
        resumed.fit(resume=True)
    message = str(info.value)
    assert f"none of the 3 step checkpoints in {checkpoints.directory} verifies" in message
    assert resumed.step == 0  # nothing was loaded
    # an empty folder is not an error: there is nothing to resume
    assert CheckpointManager(tmp_path / "empty").load_latest() is None


def test_an_explicit_checkpoint_that_does_not_verify_is_refused(tmp_path):
    checkpoints = interrupted_run(tmp_path)
    flip_64_bytes(checkpoints.path(6))
    with pytest.raises(CheckpointError, match=r"step-00000006\.pt has sha256"):
        make(tmp_path).resume(checkpoints.path(6))


def test_history_persists_across_resume(tmp_path, straight):
    trainer, expected = straight
    first = make(tmp_path, statistic=ParameterSum(), select_every=2)
    first.fit(stop_at=7)
    first.close()
    assert [row["step"] for row in first.history] == [3, 6]  # a stop is not a logging step
    second = make(tmp_path, seed_nets=9, statistic=ParameterSum(), select_every=2)
    result = second.fit(resume=True)
    second.close()
    assert_identical(trainer, second)
    # the rows of steps 3 and 6 come back from the checkpoint: the run returns all its steps
    assert [row["step"] for row in result["history"]] == [3, 6, 9, 12, 14]
    assert result["history"] == expected["history"]
    assert result["selection"] == expected["selection"] == [(s, v) for s, v in trainer.statistic.history]
    assert [s for s, _ in result["selection"]] == [2, 4, 6, 8, 10, 12, 14]
    assert second.statistic.history == trainer.statistic.history  # the selector's own record continues too


def test_history_and_tensorboard_after_a_crash_are_the_uninterrupted_ones(tmp_path, straight):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    trainer, expected = straight
    # checkpoints at 4 and 8, logs at 3, 6, 9: the crash at 10 loses step 9, which the resumed run logs again
    interrupted_run(tmp_path, ckpt_every=4, statistic=ParameterSum(), select_every=2)
    resumed = make(tmp_path, ckpt_every=4, seed_nets=2, statistic=ParameterSum(), select_every=2)
    result = resumed.fit(resume=True)
    resumed.close()
    assert resumed.checkpoints.steps() == [8, 12, 14]
    assert result["history"] == expected["history"]
    assert result["selection"] == expected["selection"]

    def scalars(folder, tag):
        events = EventAccumulator(str(folder / "tensorboard"))
        events.Reload()
        return [(e.step, e.value) for e in events.Scalars(tag)]

    straight_dir = trainer.checkpoints.directory.parent
    assert scalars(tmp_path, "loss/g") == scalars(straight_dir, "loss/g")
    assert [s for s, _ in scalars(tmp_path, "loss/g")] == [3, 6, 9, 12, 14]
    assert scalars(tmp_path, "select/statistic") == scalars(straight_dir, "select/statistic")
