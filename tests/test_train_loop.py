"""The training loop: exact resume, checkpoints, divergence stop, the papers' rules, records."""

import hashlib
import json

import numpy as np
import pytest
import torch
from gancosmo.models.cosmogan import cosmogan
from gancosmo.train import TrainConfig, Trainer, TrainingDiverged
from gancosmo.train.checkpoint import load

DATA = torch.tanh(torch.randn(40, 32, 32, generator=torch.Generator().manual_seed(0)))


def make(out_dir=None, data=DATA, statistic=None, callbacks=(), seed_nets=0, **kw):
    G, D = cosmogan(base_filters=4, map_size=32, latent_dim=8, seed=seed_nets)
    opts = dict(loss="bce", label_flip=0.2, batch_size=4, max_steps=14, latent_dim=8, progress=False, log_every=3)
    opts.update(kw)
    cfg = TrainConfig(out_dir=None if out_dir is None else str(out_dir), **opts)
    return Trainer(G, D, data, cfg, statistic=statistic, callbacks=callbacks)


def state_tensors(trainer):
    return list(trainer.G_raw.state_dict().values()) + list(trainer.D_raw.state_dict().values())


def assert_identical(a, b):
    ta, tb = state_tensors(a), state_tensors(b)
    assert len(ta) == len(tb)
    assert all(torch.equal(x, y) for x, y in zip(ta, tb))


@pytest.mark.parametrize(
    "loss,fast",
    [("bce", False), ("wgan-gp", False), ("bce", True), ("wgan-gp", True)],
    ids=["bce-fp32", "wgan-gp-fp32", "bce-bf16-channels-last", "wgan-gp-bf16-channels-last"],
)
def test_stop_and_resume_is_bitwise_identical(tmp_path, loss, fast):
    kw = dict(lr_decay_every=5, lr_decay_factor=0.5)
    kw.update(precision="bf16", channels_last=True) if fast else kw.update(precision="fp32", channels_last=False)
    if loss == "wgan-gp":
        kw.update(loss="wgan-gp", label_flip=0.0, critic_steps=2, optimizer="rmsprop", overlap_weight=1.0)
    straight = make(tmp_path / "a", **kw)
    straight.fit()
    # stop mid-epoch (10 batches per epoch), resume in fresh objects built from other weights
    first = make(tmp_path / "b", **kw)
    first.fit(stop_at=6)
    assert first.step == 6 and 0 < first.sampler.position < first.sampler.batches_per_epoch
    torch.manual_seed(999), np.random.seed(999)  # disturb the global RNGs: resume must restore them
    second = make(tmp_path / "b", seed_nets=7, **kw)
    second.fit(resume=True)
    assert second.step == straight.step == 14
    assert_identical(straight, second)
    assert second.opt_g.param_groups[0]["lr"] == straight.opt_g.param_groups[0]["lr"]
    # and a run that differs (another seed) is not identical: the comparison can fail
    other = make(tmp_path / "c", seed=1, **kw)
    other.fit()
    assert not all(torch.equal(x, y) for x, y in zip(state_tensors(straight), state_tensors(other)))


def test_crash_then_resume_from_last_checkpoint(tmp_path):
    straight = make(tmp_path / "a")
    straight.fit()

    def crash(trainer, step):
        if step == 8:
            raise KeyboardInterrupt

    crashed = make(tmp_path / "b", ckpt_every=3, keep_last=2, callbacks=[crash])
    with pytest.raises(KeyboardInterrupt):
        crashed.fit()
    assert crashed.checkpoints.steps() == [3, 6]  # last K kept
    assert not list((tmp_path / "b" / "checkpoints").glob(".*tmp"))  # no temp files left
    resumed = make(tmp_path / "b", ckpt_every=3, keep_last=2)
    resumed.fit(resume=True)
    assert_identical(straight, resumed)
    assert resumed.checkpoints.steps() == [12, 14]


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tmp_path):
    def poison(trainer, step):
        if step == 4:
            with torch.no_grad():
                trainer.G_raw.dense.weight.fill_(float("nan"))

    t = make(tmp_path, ckpt_every=3, callbacks=[poison])
    with pytest.raises(TrainingDiverged, match=r"NaN or Inf at generator step 5;.*step-00000003\.pt"):
        t.fit()
    assert t.checkpoints.steps() == [3]
    state = load(t.checkpoints.latest())
    assert all(torch.isfinite(v).all() for v in state["generator"].values() if v.is_floating_point())


def test_discriminator_skipped_when_accurate(tmp_path):
    # P3's rule: with a threshold no accuracy can be below, D never moves; G does
    t = make(d_accuracy_threshold=1e-9, label_flip=0.0, max_steps=3)
    d0 = [p.clone() for p in t.D_raw.parameters()]
    g0 = [p.clone() for p in t.G_raw.parameters()]
    t.fit()
    assert all(torch.equal(a, b) for a, b in zip(d0, t.D_raw.parameters()))
    assert not all(torch.equal(a, b) for a, b in zip(g0, t.G_raw.parameters()))
    assert t.history[-1]["d/d_updated"] == 0.0


def test_epochs_and_critic_steps_set_the_length():
    t = make(max_steps=None, epochs=2, critic_steps=2, loss="wgan-gp", label_flip=0.0)
    assert t.total_steps == 10  # 10 batches per epoch, 2 per generator step
    out = t.fit()
    assert out["step"] == 10 and out["epochs"] == pytest.approx(2.0)
    assert make(max_steps=None, epochs=0).fit()["step"] == 0


def test_selection_statistic_keeps_best_and_leaves_training_alone(tmp_path):
    plain = make(tmp_path / "a")
    plain.fit()
    values = iter([5.0, 3.0, 4.0, 1.0, 2.0] + [9.0] * 20)

    def statistic(G, step):
        G(torch.randn(4, 8))  # samples, consumes RNG and BatchNorm updates: must not matter
        return next(values)

    sel = make(tmp_path / "b", statistic=statistic, select_every=2, select_from_epoch=0.5)
    out = sel.fit()
    assert_identical(plain, sel)
    assert out["best_value"] == 1.0
    best_pt = tmp_path / "b" / "checkpoints" / "best.pt"
    best = json.loads((tmp_path / "b" / "checkpoints" / "best.json").read_text())
    # selection starts at epoch 0.5 = step 5; evaluated at steps 6, 8, 10, 12, 14
    assert best == {
        "step": 12,
        "value": 1.0,
        "file": "best.pt",
        "bytes": best_pt.stat().st_size,
        "sha256": hashlib.sha256(best_pt.read_bytes()).hexdigest(),
    }
    assert sel.checkpoints.best() == {"step": 12, "value": 1.0}
    assert out["selection"] == [(6, 5.0), (8, 3.0), (10, 4.0), (12, 1.0), (14, 2.0)]
    assert load(best_pt)["step"] == 12


def test_records_config_and_tensorboard(tmp_path):
    t = make(tmp_path, sample_every=5, max_steps=6, tensorboard=True)
    t.fit()
    t.close()
    cfg = json.loads((tmp_path / "config.json").read_text())
    assert cfg["loss"] == "bce" and cfg["batch_size"] == 4 and cfg["world_size"] == 1
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    ev = EventAccumulator(str(tmp_path / "tensorboard"))
    ev.Reload()
    tags = ev.Tags()
    assert {"loss/d", "loss/g", "lr/g", "lr/d"} <= set(tags["scalars"])
    assert "samples" in tags["images"]
    assert [e.step for e in ev.Scalars("loss/g")] == [3, 6]


def test_p1_recipe():
    cfg = TrainConfig.p1()
    assert (cfg.loss, cfg.label_flip, cfg.optimizer, cfg.lr_g, cfg.betas, cfg.batch_size, cfg.latent_dim) == (
        "bce",
        0.01,
        "adam",
        2e-4,
        (0.5, 0.999),
        64,
        64,
    )


@pytest.mark.parametrize(
    "kwargs, words",
    [
        (dict(loss="hinge"), "unknown loss 'hinge'"),
        (dict(batch_size=0), "batch_size must be an integer >= 1"),
        (dict(label_flip=1.0), r"label_flip must be a number in \[0, 1\)"),
        (dict(epochs=-1), "epochs must be a finite number >= 0"),
        (dict(optimizer="sgd"), "unknown optimizer"),
        (dict(precision="fp8"), "precision must be one of"),
        (dict(loss="wgan-gp", label_flip=0.01), "label_flip applies to the 'bce' loss only"),
        (dict(critic_steps=0), "critic_steps"),
        (dict(d_accuracy_threshold=1.5), "d_accuracy_threshold"),
        (dict(lr_g=-1e-4), "lr_g"),
        (dict(device="tpu"), "device must be"),
        (dict(compile=1), "compile must be true/false or the name"),
    ],
)
def test_config_errors(kwargs, words):
    with pytest.raises(ValueError, match=words):
        TrainConfig(**kwargs)


def test_data_smaller_than_a_batch():
    with pytest.raises(ValueError, match="fewer than one batch"):
        make(data=DATA[:3])


def test_resume_needs_same_world_size(tmp_path):
    t = make(tmp_path, max_steps=2)
    t.fit()
    state = load(t.checkpoints.latest())
    state["world_size"] = 2
    with pytest.raises(ValueError, match="written by 2 process"):
        make(tmp_path).load_state_dict(state)


class _CondG(torch.nn.Module):
    """A tiny conditional generator: the label scales the output."""

    def __init__(self, latent_dim=8, size=8):
        super().__init__()
        self.lin = torch.nn.Linear(latent_dim + 1, size * size)
        self.size = size

    def forward(self, z, y):
        return torch.tanh(self.lin(torch.cat([z, y], 1))).view(-1, 1, self.size, self.size) * y[:, :, None, None]


class _CondD(torch.nn.Module):
    def __init__(self, size=8):
        super().__init__()
        self.lin = torch.nn.Linear(size * size + 1, 1)

    def forward(self, x, y):
        return self.lin(torch.cat([x.flatten(1), y], 1)).squeeze(1)


def test_conditional_data_pass_labels_and_resume_exactly(tmp_path):
    from gancosmo.data.augment import dihedral2d

    g = torch.Generator().manual_seed(3)
    labels = torch.rand(48, generator=g) + 0.5
    maps = torch.randn(48, 8, 8, generator=g) * labels[:, None, None]
    seen = []

    class SpyD(_CondD):
        def forward(self, x, y):
            seen.append(y.detach().clone())
            return super().forward(x, y)

    def run(out, stop_at=None, resume=False):
        torch.manual_seed(0)
        G, D = _CondG(), SpyD()
        cfg = TrainConfig(
            loss="wgan-gp",
            critic_steps=2,
            optimizer="rmsprop",
            lr_g=1e-3,
            lr_d=1e-3,
            batch_size=8,
            max_steps=9,
            latent_dim=8,
            progress=False,
            out_dir=str(out),
            tensorboard=False,
        )
        t = Trainer(G, D, (maps, labels), cfg, augment=dihedral2d)
        t.fit(stop_at=stop_at, resume=resume)
        return t

    straight = run(tmp_path / "a")
    assert straight.conditional
    # every label the critic saw belongs to the data set
    allowed = set(labels.tolist())
    assert all(set(y.flatten().tolist()) <= allowed for y in seen)
    run(tmp_path / "b", stop_at=4)
    resumed = run(tmp_path / "b", resume=True)
    assert_identical(straight, resumed)


def test_conditional_labels_must_match_the_data():
    G, D = _CondG(), _CondD()
    cfg = TrainConfig(batch_size=4, max_steps=1, latent_dim=8, progress=False, tensorboard=False)
    with pytest.raises(ValueError, match="labels must have shape"):
        Trainer(G, D, (torch.zeros(10, 8, 8), torch.zeros(9)), cfg)
    with pytest.raises(ValueError, match="pair"):
        Trainer(G, D, (torch.zeros(10, 8, 8), torch.zeros(10), torch.zeros(10)), cfg)


def test_bf16_autocast_keeps_fp32_weights():
    t = make(precision="bf16", max_steps=3)
    dtypes = []
    hook = t.G_raw.dense.register_forward_hook(lambda m, i, o: dtypes.append(o.dtype))
    result = t.fit()
    hook.remove()
    assert dtypes and all(d == torch.bfloat16 for d in dtypes)
    assert all(p.dtype == torch.float32 for p in t.G_raw.parameters())
    assert np.isfinite([h["loss/d"] for h in result["history"]]).all()


def test_fp16_grad_scaler_state_is_checkpointed_and_resumed(tmp_path):
    straight = make(tmp_path / "a", precision="fp16")
    straight.fit()
    assert straight.scaler_g.is_enabled()
    # early fp16 steps overflow and the scale drops from its initial 2^16: the state matters
    assert straight.scaler_g.get_scale() < 65536.0 or straight.scaler_d.get_scale() < 65536.0
    make(tmp_path / "b", precision="fp16").fit(stop_at=6)
    resumed = make(tmp_path / "b", precision="fp16", seed_nets=3)
    resumed.fit(resume=True)
    assert_identical(straight, resumed)
    assert resumed.scaler_g.get_scale() == straight.scaler_g.get_scale()


def test_compiled_networks_checkpoint_plain_weights(tmp_path):
    plain = make(tmp_path / "a", max_steps=3)
    plain.fit()
    compiled = make(tmp_path / "b", max_steps=3, compile="eager")
    compiled.fit()
    state = load(tmp_path / "b" / "checkpoints" / "step-00000003.pt")
    assert not any("_orig_mod" in k or k.startswith("module.") for k in state["generator"])
    # the "eager" backend runs the same kernels: the trajectory is the uncompiled one
    for x, y in zip(state_tensors(plain), state_tensors(compiled)):
        assert torch.allclose(x.float(), y.float(), rtol=1e-5, atol=1e-6)
    # and the checkpoint loads into an uncompiled trainer
    fresh = make(tmp_path / "b", max_steps=3)
    assert fresh.resume(True) and fresh.step == 3
