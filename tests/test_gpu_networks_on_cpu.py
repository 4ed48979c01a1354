"""Every chapter's ``gpu``-profile networks take a training step with the CUDA options forced on.

No GPU is needed: the step runs on the CPU with what the engine does on CUDA (bf16 autocast,
channels-last for 2D and channels-last-3d for 3D networks, fused optimizer kernels where the CPU
has them), so a layout or dtype that only the CUDA path meets fails here first. Batch 2, one step.
"""

import numpy as np
import pytest
import torch
from gancosmo.train import TrainConfig, Trainer

FORCED = dict(device="cpu", precision="bf16", channels_last=True, fused=True, progress=False, tensorboard=False)


def _step(G, D, data, **train):
    before = [p.detach().clone() for p in G.parameters()]
    cfg = TrainConfig(batch_size=2, max_steps=1, **{**FORCED, **train})
    trainer = Trainer(G, D, data, cfg)
    out = trainer.fit()
    assert out["step"] == 1
    assert out["device_settings"]["precision"] == "bf16" and out["device_settings"]["channels_last"]
    assert np.isfinite(out["history"][-1]["loss/g"])
    changed = [not torch.equal(a, b.detach()) for a, b in zip(before, trainer.G_raw.parameters())]
    assert any(changed), "the generator step changed no weight"
    assert all(p.dtype == torch.float32 for p in trainer.G_raw.parameters())


def test_p1_gpu_networks_step():
    from gancosmo.evaluation.p1 import P1Config, build_networks

    cfg = P1Config.PROFILES["gpu"]
    G, D = build_networks(cfg)
    data = torch.tanh(torch.randn(4, cfg.map_size, cfg.map_size))
    _step(G, D, data, loss="bce", label_flip=0.01, latent_dim=G.latent_dim)


def test_p2_gpu_networks_step():
    from gancosmo.evaluation.p2 import P2Config, suite_map_size
    from gancosmo.models.conditional import conditional_gan

    cfg = P2Config.PROFILES["gpu"]
    side = suite_map_size("gpu")
    G, D = conditional_gan(cfg.width, conditioning=cfg.conditioning, seed=0, map_size=side)
    maps = torch.randn(4, side, side) * 0.1
    labels = np.array([[0.3, 0.8], [0.25, 0.9], [0.35, 0.7], [0.3, 0.75]], np.float32)
    train = cfg.train_config(progress=False)
    _step(
        G,
        D,
        (maps, labels),
        loss="wgan-gp",
        gp_form=train.gp_form,
        critic_steps=train.critic_steps,
        optimizer="rmsprop",
        latent_dim=train.latent_dim,
    )


@pytest.mark.parametrize("conditional", [False, True], ids=["unconditional", "redshift-conditional"])
def test_p3_gpu_networks_step(conditional):
    from gancosmo.evaluation.p3 import P3Config
    from gancosmo.models.dcgan3d import dcgan3d

    cfg = P3Config.PROFILES["gpu"]
    G, D = dcgan3d(cfg.filters, cfg.latent_dim, cond_dim=1 if conditional else 0, seed=0)
    n = cfg.sub_size
    cubes = torch.rand(4, n, n, n) * 2 - 1
    data = (cubes, np.array([0.0, 0.5, 1.0, 1.5], np.float32)) if conditional else cubes
    _step(G, D, data, loss="bce", latent_dim=cfg.latent_dim, d_accuracy_threshold=cfg.d_accuracy_threshold)


@pytest.mark.parametrize("stage", ["m3", "m2", "m1"])
def test_p4_gpu_networks_step(stage):
    from gancosmo.evaluation import p4 as E

    cfg = E.P4Config.PROFILES["gpu"]
    G, D = E.build_stage(stage, E.stage_args(cfg, stage))
    # two final cubes of the gpu profile's side hold enough patches for a batch of 2 at every stage
    cubes = torch.rand(2, cfg.voxels, cfg.voxels, cfg.voxels) * 3
    data = E.stage_pairs(cfg, stage, E.pyramid(cubes, cfg.factor_m2, cfg.factor_m1))
    train = E.train_config(cfg, 1, G.latent_dim, 0, "cpu", False)
    # one critic update (P4: 5): the layouts and dtypes are the same, M1 at P4's size takes minutes at 5
    _step(
        G,
        D,
        data,
        loss=train.loss,
        gp_weight=train.gp_weight,
        overlap_weight=train.overlap_weight,
        critic_steps=1,
        optimizer=train.optimizer,
        latent_dim=train.latent_dim,
    )
